"""The seed articles' events as a perfect extractor would report them: every sentence that
reports an event, grouped by hand into happenings, with one clean title per happening.

Quotes are verbatim from ``seeds/``; the time expression is the one written in the quote; dates
are resolved as the pipeline does. ``mentions("weak")`` titles each mention by its quote's first
ten words instead, as a small model often does; ``mentions("labels")`` gives every report of an
article one label, as the small models did on these articles. This is the set the merge thresholds are tuned
on; ``benchmarks/merge_quality.py`` checks them on Timeline17 articles they were not tuned on.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Literal

from storyline.grounding import date_mention
from storyline.models import Mention

PUBLISHED = {"000": dt.date(2025, 3, 17), "001": dt.date(2025, 3, 17), "002": dt.date(2025, 3, 17),
             "003": dt.date(2025, 3, 17), "004": dt.date(2025, 3, 18)}
IDS = {"000": "000_194fac485f307d0b", "001": "001_c294f2ccbd6d00ec", "002": "002_c924205565333087",
       "003": "003_1326406fc45ba7b4", "004": "004_f550f66cc359bc1c"}

# happening -> (clean title, [(article, quote, time expression as written in the quote, status)])
HAPPENINGS: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {
    'call': ('Trump and Putin to discuss a Ukraine ceasefire by phone', [
        ('000', 'US President Donald Trump will speak with Russian President Vladimir Putin on Tuesday to discuss a potential ceasefire in Ukraine, following diplomatic engagements between US and Russian officials in Moscow.', 'on Tuesday', 'expected'),
        ('001', 'Trump, Putin to Discuss Ukraine Peace Deal on Tuesday', 'on Tuesday', 'expected'),
        ('001', 'US President Donald Trump announced plans to speak with Russian President Vladimir Putin on Tuesday to discuss ending the war in Ukraine.', 'on Tuesday', 'expected'),
        ('002', 'Trump to Talk with Putin on Tuesday About Ending Ukraine War, Says Reuters', 'on Tuesday', 'expected'),
        ('002', 'U.S. President Donald Trump plans to speak with Russian President Vladimir Putin on Tuesday to discuss stopping the war in Ukraine.', 'on Tuesday', 'expected'),
        ('003', 'U.S. President Donald Trump has announced plans to speak with Russian President Vladimir Putin on Tuesday regarding efforts to end the ongoing war in Ukraine.', 'on Tuesday', 'expected'),
        ('004', 'Former U.S. President Donald Trump and Russian President Vladimir Putin are set to discuss a possible Ukraine ceasefire on Tuesday.', 'on Tuesday', 'expected'),
        ('003', 'With Trump and Putin set to discuss the war, the next few weeks could determine whether a ceasefire agreement is feasible.', '', 'expected'),
        ('000', 'Trump’s call with Putin is expected to be a major test of his diplomatic strategy and his ability to secure a temporary halt to the three-year war.', '', 'expected'),
    ]),
    'air_force_one': ('Trump tells reporters he has a good chance of ending the war', [
        ('000', '“We want to see if we can bring that war to an end,” Trump told reporters aboard Air Force One. “Maybe we can, maybe we can’t, but I think we have a very good chance.”', '', 'happened'),
        ('001', '“We want to see if we can bring that war to an end,” Trump told reporters aboard Air Force One. “Maybe we can, maybe we can’t, but I think we have a very good chance.”', '', 'happened'),
        ('002', 'Trump shared this news while flying back to Washington from Florida, saying, “We want to see if we can end the war. Maybe we can, maybe we can’t, but I think we have a good chance.”', '', 'happened'),
        ('004', 'Speaking to reporters, Trump sounded hopeful about achieving a ceasefire and broader peace agreement. “We’re going to see if we can negotiate a peace deal. I think we can,” he stated.', '', 'happened'),
    ]),
    'land_power_plants': ('Trump says talks will cover land and power plants', [
        ('000', 'When asked about possible concessions, Trump said discussions would include territory and power plants.', '', 'happened'),
        ('001', 'When asked about potential concessions in ceasefire negotiations, Trump hinted at key discussions: “We’ll be talking about land. We’ll be talking about power plants…We’re already talking about that, dividing up certain assets.”', '', 'happened'),
        ('002', 'When asked about possible compromises, Trump mentioned discussions about land and power plants, likely referring to the Zaporizhzhia nuclear plant in Ukraine, which is currently under Russian control.', '', 'happened'),
        ('003', 'Trump revealed that discussions have already begun about dividing certain assets between the two warring nations.', '', 'happened'),
        ('003', 'During a conversation aboard Air Force One, Trump stated:\n“I think we’ll be talking about land… we’ll be talking about power plants. We have already discussed a lot with both sides, Ukraine and Russia.”', '', 'happened'),
        ('004', 'Trump also mentioned on Sunday that land and energy resources are part of the negotiations. “We’re discussing land. We’re discussing power plants. These conversations are already happening,” he revealed.', 'on Sunday', 'happened'),
    ]),
    'kremlin_confirms': ('Kremlin confirms the call but declines to comment on land', [
        ('000', 'The Kremlin confirmed the upcoming call but declined to comment on Trump’s remarks regarding land and energy infrastructure.', '', 'happened'),
        ('001', 'The Kremlin confirmed Putin would take Trump’s call but remained tight-lipped on discussions about land and energy assets.', '', 'happened'),
        ('002', 'The Kremlin confirmed that Putin will speak with Trump but did not comment on Trump’s remarks about land and power plants.', '', 'happened'),
    ]),
    'moscow_talks': ("Witkoff delivers Trump's message in Moscow; Moscow voices cautious optimism", [
        ('000', 'Moscow had previously expressed “cautious optimism” about the ceasefire proposal via a message delivered by US envoy Steve Witkoff.', 'previously', 'happened'),
        ('001', 'US envoy Steve Witkoff delivered Putin a message from Trump regarding the ceasefire, with Moscow expressing “cautious optimism.”', '', 'happened'),
        ('002', 'Earlier, Putin sent a message to Trump through a U.S. envoy, expressing “cautious optimism” about a possible ceasefire deal.', 'Earlier', 'happened'),
        ('004', 'U.S. envoy Steve Witkoff, who recently met Putin in Moscow, also maintained a cautious approach.', 'recently', 'happened'),
        ('001', 'This follows promising talks between US and Russian officials in Moscow.', '', 'happened'),
        ('002', 'This comes after U.S. and Russian officials held positive talks in Moscow over the weekend.', 'over the weekend', 'happened'),
    ]),
    'jeddah': ('Ukraine accepts the US 30-day ceasefire proposal after talks in Saudi Arabia', [
        ('000', 'Trump is pushing for a 30-day ceasefire, which Ukraine has already accepted, even as both sides continue exchanging airstrikes.', '', 'happened'),
        ('001', 'Trump is seeking Putin’s support for a 30-day ceasefire proposal that Ukraine recently accepted.', 'recently', 'happened'),
        ('002', 'According to Reuters, Trump is pushing for a 30-day ceasefire, which Ukraine has already agreed to.', '', 'happened'),
        ('003', 'This comes after Washington proposed a halt in fighting, an initiative Kyiv has accepted following peace talks held in Saudi Arabia.', '', 'happened'),
        ('004', 'Following lengthy talks, Ukraine confirmed its willingness to accept the proposal.', '', 'happened'),
        ('001', 'With Ukraine backing a U.S.-led ceasefire proposal, Trump prepares to press Putin for a deal—while Russia sets tough demands on land, NATO, and power.', '', 'happened'),
        ('004', 'Ukrainian and American delegates recently debated a 30-day ceasefire during discussions in Saudi Arabia.', 'recently', 'happened'),
        ('004', 'After talks with Ukrainian representatives in Jeddah, U.S. Secretary of State Marco Rubio described the discussions as “preliminary.” “We focused on what a negotiation process would look like rather than exact conditions,” Rubio explained.', '', 'happened'),
    ]),
    'officials_caution': ('US officials say a deal needs concessions and must be grounded in reality', [
        ('000', 'Senior US officials, including Secretary of State Marco Rubio and National Security Adviser Mike Waltz, cautioned that negotiations remained complex.', '', 'happened'),
        ('001', 'However, key US officials, including Secretary of State Marco Rubio and National Security Adviser Mike Waltz, warned that significant hurdles remain before an agreement is reached.', '', 'happened'),
        ('002', 'U.S. officials, including Secretary of State Marco Rubio and national security adviser Mike Waltz, said that both Russia and Ukraine would need to make concessions for a lasting peace.', '', 'happened'),
        ('000', 'Waltz emphasized that talks must be “grounded in reality,” while Rubio acknowledged that any final deal would require concessions from both Russia and Ukraine.', '', 'happened'),
        ('001', 'Asked on ABC whether the US would back a deal allowing Russia to retain occupied Ukrainian territory, Waltz replied, “Are we going to drive every Russian off every inch of Ukrainian soil?” He stressed the importance of negotiating within “reality.”', '', 'happened'),
        ('002', 'Waltz even questioned whether the U.S. should demand that Russia leave all Ukrainian territory, saying negotiations must be based on “reality.”', '', 'happened'),
    ]),
    'drone_strikes': ('Ukraine hits Astrakhan energy sites as Russia strikes Kyiv', [
        ('000', 'Meanwhile, overnight Ukrainian drone strikes targeted energy sites in Russia’s Astrakhan region, while Moscow launched new attacks on Kyiv.', 'overnight', 'happened'),
        ('001', 'A Ukrainian drone attack targeted energy facilities in Russia’s Astrakhan region, injuring one person, while Russia launched fresh drone strikes on Kyiv.', '', 'happened'),
    ]),
    'kursk': ('Russia gains ground in the Kursk region', [
        ('000', 'Russian forces are advancing on Ukrainian positions in Kursk, further complicating negotiations.', '', 'ongoing'),
        ('001', 'However, intense aerial strikes continue, and Russia is gaining ground in the western Russian region of Kursk.', '', 'ongoing'),
        ('002', 'Russia is also trying to push Ukrainian forces out of the Kursk region, which they have held for months.', '', 'ongoing'),
        ('004', 'A key sticking point involves Russia’s Kursk region, which was reclaimed by Russian forces after a Ukrainian incursion last August. Putin now claims full control over the area.', 'last August', 'happened'),
    ]),
    'ironclad': ('Russia demands ironclad security guarantees', [
        ('000', 'Russia insists that any peace deal must include “ironclad” guarantees preventing Ukraine from joining NATO and ensuring its neutrality. Russian Deputy Foreign Minister Alexander Grushko reiterated this stance, arguing that security assurances must be a key part of any agreement.', '', 'ongoing'),
        ('001', 'Russia, however, insists on “ironclad” security guarantees, including Ukraine’s permanent exclusion from NATO.\nDeputy Foreign Minister Alexander Grushko emphasized that any peace deal must secure Russia’s long-term interests: “We will demand that ironclad security guarantees become part of this agreement,” he told Russian media.', '', 'happened'),
        ('002', 'Russia, on the other hand, wants guarantees that Ukraine will not join NATO and will remain neutral.\nReuters also reports that Russia’s Deputy Foreign Minister Alexander Grushko said any peace deal must include “ironclad” security guarantees for Russia, such as Ukraine’s neutral status and no NATO membership.', '', 'happened'),
    ]),
    'kallas': ("Kallas dismisses Russia's demands", [
        ('000', 'EU foreign policy chief Kaja Kallas dismissed Russia’s conditions, saying they demonstrate Moscow is not serious about peace.', '', 'happened'),
        ('001', 'The European Union’s foreign policy chief, Kaja Kallas, dismissed Russia’s demands, arguing they prove Moscow is not truly seeking peace.', '', 'happened'),
        ('002', 'In response, the European Union’s foreign policy chief, Kaja Kallas, said Russia’s demands show it is not serious about peace.', '', 'happened'),
    ]),
    'peacekeepers_offer': ('Britain and France consider sending peacekeepers', [
        ('001', 'Meanwhile, British Prime Minister Keir Starmer announced that the UK and France are considering sending peacekeepers to monitor a potential ceasefire.', '', 'happened'),
        ('002', 'Other Western allies, like Britain and France, are preparing to support Ukraine if a ceasefire happens.', '', 'ongoing'),
    ]),
    'peacekeepers_rejected': ('Russia rejects peacekeepers before the war ends', [
        ('000', 'While Britain and France have indicated a willingness to send peacekeepers, Russia has rejected such proposals, warning that their deployment would make them “parties to the conflict.”', '', 'happened'),
        ('001', 'However, Russia has rejected peacekeeping forces until the war is fully resolved.', '', 'happened'),
        ('002', 'They have even suggested sending peacekeepers, but Russia has rejected this idea, saying peacekeepers would only be acceptable after the war ends.', '', 'happened'),
    ]),
    'observers': ('Moscow suggests civilian observers instead', [
        ('000', 'Instead, Moscow has suggested civilian observers as a possible alternative.', '', 'happened'),
    ]),
    'zelensky_clash': ('Trump and Zelensky clash in Washington', [
        ('001', 'Last month, he clashed with Zelensky in Washington, causing the Ukrainian leader to leave their meeting early.', 'Last month', 'happened'),
        ('002', 'His recent meeting with Zelenskiy ended early, but Ukraine’s acceptance of the ceasefire proposal now puts pressure on Russia to agree.', '', 'happened'),
    ]),
    'sovereignty': ("Zelensky says Ukraine's sovereignty is non-negotiable", [
        ('001', 'While Ukraine accepted the US ceasefire proposal, President Volodymyr Zelensky remains firm that Ukrainian sovereignty is non-negotiable.', '', 'ongoing'),
        ('002', 'Meanwhile, Ukraine’s President Volodymyr Zelenskiy has said that Ukraine’s sovereignty is non-negotiable and that Russia must return all seized land.', '', 'happened'),
    ]),
    'optimism_sunday': ('US officials say a ceasefire deal is possible within weeks', [
        ('003', 'U.S. officials expressed optimism on Sunday, suggesting that a ceasefire deal between Ukraine and Russia could be reached within weeks.', 'on Sunday', 'happened'),
    ]),
    'witkoff_cnn': ('Witkoff tells CNN he expects a productive Trump-Putin conversation', [
        ('003', 'Trump’s special envoy for the conflict, Steve Witkoff, told CNN that he expects Trump and Putin to have a positive discussion:\n“The two presidents are going to have a really good and productive conversation this week. Trump really expects there to be some sort of deal in the coming weeks, and I believe that’s the case.”', '', 'happened'),
    ]),
    'zelensky_saturday': ('Zelensky accuses the Kremlin of stalling', [
        ('003', 'However, Ukrainian President Volodymyr Zelensky remains skeptical about Russia’s willingness to negotiate. On Saturday, he accused the Kremlin of stalling, arguing that Moscow intends to improve its position on the battlefield before agreeing to any ceasefire terms.', 'On Saturday', 'happened'),
    ]),
    'rubio_lavrov': ('Rubio and Lavrov speak about next steps', [
        ('003', 'The Russian Foreign Ministry confirmed that U.S. Secretary of State Marco Rubio recently spoke with Russian Foreign Minister Sergei Lavrov to discuss the next steps in implementing agreements reached at the Saudi Arabia summit in February.', 'recently', 'happened'),
        ('003', '“Sergei Lavrov and Marco Rubio agreed to remain in contact,” the Russian Foreign Ministry stated, without directly mentioning the U.S.-proposed ceasefire.\nState Department spokesperson Tammy Bruce later clarified that the conversation focused on restoring communication channels between the U.S. and Russia to navigate the ongoing crisis.', '', 'happened'),
    ]),
    'starmer_summit': ("Starmer hosts a virtual summit that criticises Russia's delays", [
        ('003', 'At a virtual summit on Ukraine, hosted by UK Prime Minister Keir Starmer, world leaders criticized Russia’s delay tactics in the ceasefire negotiations.\n“The ‘yes, but’ from Russia is not good enough,” Starmer said, calling for an immediate end to the war and urging Putin to stop the barbaric attacks on Ukraine.', '', 'happened'),
    ]),
    'drones_90': ('Ukraine reports 90 Russian drones', [
        ('003', 'Despite diplomatic efforts, Ukraine reported on Sunday that Moscow had launched 90 Iranian-made Shahed drones on nine Ukrainian regions, demonstrating that hostilities remain intense.', 'on Sunday', 'happened'),
    ]),
    'truth_social': ('Trump announces the call on Truth Social', [
        ('004', 'Trump made the announcement on Truth Social, emphasizing the need to end the deadly conflict. “Every week, 2,500 soldiers die on both sides. This must stop now. I look forward to my call with President Putin,” he wrote.', '', 'happened'),
    ]),
    'zelensky_monday': ('Zelensky blames Putin for stalling the peace process', [
        ('004', 'Ukrainian President Volodymyr Zelensky, during his nightly address on Monday, blamed Putin for stalling the peace process. He said the current ceasefire proposal could have been accepted much earlier. “Every day this war continues, more lives are lost,” Zelensky stressed.', 'on Monday', 'happened'),
    ]),
    'uk_france_urge': ('UK and France urge Putin to show commitment to peace', [
        ('004', 'Meanwhile, the UK and France have urged Putin to demonstrate his commitment to peace.', '', 'happened'),
    ]),
    'macron': ("Macron praises Zelensky's support for the ceasefire", [
        ('004', 'French President Emmanuel Macron praised Zelensky’s support for the ceasefire proposal, urging Russia to take positive steps. “Enough death and destruction. The guns must go silent,” Macron declared.', '', 'happened'),
    ]),
    'lammy': ('Lammy demands an immediate and unconditional ceasefire', [
        ('004', 'UK Foreign Secretary David Lammy demanded Putin agree to an “immediate and unconditional ceasefire,” warning that the UK and its allies have more ways to pressure Russia into genuine negotiations.', '', 'happened'),
    ]),
    'leavitt': ('Leavitt says Trump remains dedicated to peace', [
        ('004', 'The White House expressed optimism about the upcoming conversation between Trump and Putin.', '', 'happened'),
        ('004', 'Press Secretary Karoline Leavitt stated on Monday that Trump remains dedicated to securing peace. “Peace in Ukraine has never been closer,” she claimed.', 'on Monday', 'happened'),
        ('004', 'When asked about the discussion topics, Leavitt confirmed that Trump would address a power plant located on the Russia-Ukraine border, likely referring to the Zaporizhzhia nuclear power plant.', '', 'happened'),
    ]),
    'zaporizhzhia': ('Zaporizhzhia plant under Russian control', [
        ('004', 'The plant has been under Russian control since March 2022, and ongoing fighting in the area continues to raise fears of a nuclear incident.', 'since March 2022', 'ongoing'),
    ]),
    'peskov': ('Peskov refuses to give details of the talks', [
        ('004', 'Kremlin spokesperson Dmitry Peskov refused to provide details about the upcoming talks, simply stating, “We never do that.”', '', 'happened'),
    ]),
    'macron_carney': ('Macron and Carney reaffirm support for Ukraine', [
        ('004', 'French President Macron and newly elected Canadian Prime Minister Mark Carney reaffirmed their support for Ukraine. During their meeting on Tuesday, they pledged continued assistance and called for clear commitments from Russia.', 'on Tuesday', 'happened'),
    ]),
    'nuclear_accusations': ('Both sides accuse each other of risking a nuclear accident', [
        ('002', 'Both sides have accused each other of risking a nuclear accident there.', '', 'ongoing'),
    ]),
}

# The day (or days) a happening took place, where the articles say it.
DATES: dict[str, tuple[dt.date, dt.date | None]] = {
    "call": (dt.date(2025, 3, 18), dt.date(2025, 3, 18)),
    "land_power_plants": (dt.date(2025, 3, 16), dt.date(2025, 3, 16)),
    "moscow_talks": (dt.date(2025, 3, 15), dt.date(2025, 3, 16)),
    "drone_strikes": (dt.date(2025, 3, 16), dt.date(2025, 3, 17)),
    "zelensky_clash": (dt.date(2025, 2, 1), dt.date(2025, 2, 28)),
    "optimism_sunday": (dt.date(2025, 3, 16), dt.date(2025, 3, 16)),
    "zelensky_saturday": (dt.date(2025, 3, 15), dt.date(2025, 3, 15)),
    "drones_90": (dt.date(2025, 3, 16), dt.date(2025, 3, 16)),
    "zelensky_monday": (dt.date(2025, 3, 17), dt.date(2025, 3, 17)),
    "leavitt": (dt.date(2025, 3, 17), dt.date(2025, 3, 17)),
    "zaporizhzhia": (dt.date(2022, 3, 1), None),
    "macron_carney": (dt.date(2025, 3, 18), dt.date(2025, 3, 18)),
}


def weak_title(quote: str) -> str:
    return " ".join(quote.split()[:10])


LABELS = ("Council approves budget", "Ceremony", "ongoing", "happened", "Budget approved")
"""Titles SmolLM2-135M and Gemma-3-270m gave to most of what a seed article reports (the first is
the extraction prompt's own example)."""


def label_title(article: str) -> str:
    """One of LABELS for every report of an article, as a small model often writes."""
    return LABELS[zlib.crc32(article.encode()) % len(LABELS)]


Titles = Literal["clean", "weak", "labels"]


def title_for(titles: Titles, clean: str, quote: str, article: str) -> str:
    """The clean title, the quote's first ten words, or the article's label."""
    return {"clean": clean, "weak": weak_title(quote), "labels": label_title(article)}[titles]


def mentions(titles: Titles = "clean") -> list[tuple[str, Mention]]:
    """(happening, mention) pairs, in article order within each happening."""
    found = []
    for label, (title, reports) in HAPPENINGS.items():
        for article, quote, when, status in reports:
            found.append((label, Mention(
                article=IDS[article], quote=quote, title=title_for(titles, title, quote, IDS[article]),
                when=when, status=status, date=date_mention(when, quote, status, PUBLISHED[article]),
                offset=SEED_TEXTS[article].index(quote),
            )))
    return found


def _seed_texts() -> dict[str, str]:
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "seeds"
    return {key: (folder / f"{name}.txt").read_text(encoding="utf-8") for key, name in IDS.items()}


SEED_TEXTS = _seed_texts()
