"""Seed-style mentions: how a good extractor reports the seed articles' events, in different
words per source. Quotes are verbatim from ``seeds/``; dates are resolved as the pipeline does."""

from __future__ import annotations

import datetime as dt

from storyline.extract import date_mention
from storyline.models import Mention

PUBLISHED = {"000": dt.date(2025, 3, 17), "001": dt.date(2025, 3, 17), "002": dt.date(2025, 3, 17),
             "003": dt.date(2025, 3, 17), "004": dt.date(2025, 3, 18)}
IDS = {"000": "000_194fac485f307d0b", "001": "001_c294f2ccbd6d00ec", "002": "002_c924205565333087",
       "003": "003_1326406fc45ba7b4", "004": "004_f550f66cc359bc1c"}

# event label -> [(article, quote, title, when, status, actors)]
EVENTS: dict[str, list[tuple[str, str, str, str, str, list[str]]]] = {
    "call": [
        ("000", "US President Donald Trump will speak with Russian President Vladimir Putin on Tuesday to discuss a potential ceasefire in Ukraine, following diplomatic engagements between US and Russian officials in Moscow.",
         "Trump to speak with Putin about a Ukraine ceasefire", "on Tuesday", "expected", ["Donald Trump", "Vladimir Putin"]),
        ("001", "US President Donald Trump announced plans to speak with Russian President Vladimir Putin on Tuesday to discuss ending the war in Ukraine.",
         "Trump plans call with Putin on ending the war", "on Tuesday", "expected", ["Trump", "Putin"]),
        ("002", "U.S. President Donald Trump plans to speak with Russian President Vladimir Putin on Tuesday to discuss stopping the war in Ukraine.",
         "Trump to talk with Putin about stopping the war", "on Tuesday", "expected", ["Donald Trump", "Vladimir Putin"]),
        ("003", "U.S. President Donald Trump has announced plans to speak with Russian President Vladimir Putin on Tuesday regarding efforts to end the ongoing war in Ukraine.",
         "Trump announces plans to speak with Putin", "on Tuesday", "expected", ["Donald Trump", "Vladimir Putin"]),
        ("004", "Former U.S. President Donald Trump and Russian President Vladimir Putin are set to discuss a possible Ukraine ceasefire on Tuesday.",
         "Trump and Putin set to discuss a Ukraine ceasefire", "on Tuesday", "expected", ["Donald Trump", "Vladimir Putin"]),
    ],
    "land_power_plants": [
        ("000", "When asked about possible concessions, Trump said discussions would include territory and power plants.",
         "Trump says talks will cover territory and power plants", "", "happened", ["Trump"]),
        ("001", "When asked about potential concessions in ceasefire negotiations, Trump hinted at key discussions: “We’ll be talking about land. We’ll be talking about power plants…We’re already talking about that, dividing up certain assets.”",
         "Trump says talks will cover land and power plants", "", "happened", ["Trump"]),
        ("002", "When asked about possible compromises, Trump mentioned discussions about land and power plants, likely referring to the Zaporizhzhia nuclear plant in Ukraine, which is currently under Russian control.",
         "Trump mentions land and power plants in talks", "", "happened", ["Trump"]),
        ("003", "“I think we’ll be talking about land… we’ll be talking about power plants. We have already discussed a lot with both sides, Ukraine and Russia.”",
         "Trump says land and power plants will be discussed", "", "happened", ["Trump"]),
        ("004", "Trump also mentioned on Sunday that land and energy resources are part of the negotiations.",
         "Trump says land and power plants are part of negotiations", "on Sunday", "happened", ["Trump"]),
    ],
    "witkoff": [
        ("000", "Moscow had previously expressed “cautious optimism” about the ceasefire proposal via a message delivered by US envoy Steve Witkoff.",
         "Witkoff delivers message; Moscow expresses cautious optimism", "", "happened", ["Steve Witkoff", "Moscow"]),
        ("001", "US envoy Steve Witkoff delivered Putin a message from Trump regarding the ceasefire, with Moscow expressing “cautious optimism.”",
         "Witkoff delivers Trump's ceasefire message to Putin", "", "happened", ["Steve Witkoff", "Putin", "Trump"]),
        ("002", "Earlier, Putin sent a message to Trump through a U.S. envoy, expressing “cautious optimism” about a possible ceasefire deal.",
         "Putin sends Trump message of cautious optimism via envoy", "Earlier", "happened", ["Putin", "Trump"]),
        ("004", "U.S. envoy Steve Witkoff, who recently met Putin in Moscow, also maintained a cautious approach.",
         "Witkoff met Putin in Moscow", "recently", "happened", ["Steve Witkoff", "Putin"]),
    ],
    "jeddah_ceasefire": [
        ("000", "Trump is pushing for a 30-day ceasefire, which Ukraine has already accepted, even as both sides continue exchanging airstrikes.",
         "Ukraine accepts 30-day ceasefire proposal", "", "happened", ["Ukraine", "Trump"]),
        ("001", "Trump is seeking Putin’s support for a 30-day ceasefire proposal that Ukraine recently accepted.",
         "Ukraine accepted US 30-day ceasefire proposal", "recently", "happened", ["Ukraine"]),
        ("002", "According to Reuters, Trump is pushing for a 30-day ceasefire, which Ukraine has already agreed to.",
         "Ukraine agrees to 30-day ceasefire", "", "happened", ["Ukraine", "Trump"]),
        ("003", "This comes after Washington proposed a halt in fighting, an initiative Kyiv has accepted following peace talks held in Saudi Arabia.",
         "Kyiv accepts US ceasefire proposal after talks in Saudi Arabia", "", "happened", ["Kyiv", "Washington"]),
        ("004", "Ukrainian and American delegates recently debated a 30-day ceasefire during discussions in Saudi Arabia.",
         "Ukraine and US debate 30-day ceasefire in Saudi Arabia", "recently", "happened", ["Ukraine", "US"]),
    ],
    "ironclad": [
        ("000", "Russia insists that any peace deal must include “ironclad” guarantees preventing Ukraine from joining NATO and ensuring its neutrality.",
         "Russia demands ironclad guarantees against Ukraine joining NATO", "", "ongoing", ["Russia"]),
        ("001", "“We will demand that ironclad security guarantees become part of this agreement,” he told Russian media.",
         "Grushko says Russia will demand ironclad security guarantees", "", "happened", ["Alexander Grushko", "Russia"]),
        ("002", "Reuters also reports that Russia’s Deputy Foreign Minister Alexander Grushko said any peace deal must include “ironclad” security guarantees for Russia, such as Ukraine’s neutral status and no NATO membership.",
         "Grushko says deal must include ironclad security guarantees", "", "happened", ["Alexander Grushko"]),
    ],
    "peacekeepers": [
        ("000", "While Britain and France have indicated a willingness to send peacekeepers, Russia has rejected such proposals, warning that their deployment would make them “parties to the conflict.”",
         "Russia rejects British and French peacekeepers", "", "happened", ["Russia", "Britain", "France"]),
        ("001", "However, Russia has rejected peacekeeping forces until the war is fully resolved.",
         "Russia rejects peacekeeping forces", "", "happened", ["Russia"]),
        ("002", "They have even suggested sending peacekeepers, but Russia has rejected this idea, saying peacekeepers would only be acceptable after the war ends.",
         "Russia rejects peacekeepers until the war ends", "", "happened", ["Russia"]),
    ],
    # Distractors: different events on the same day, the same actors on different days.
    "drones_sunday": [
        ("003", "Despite diplomatic efforts, Ukraine reported on Sunday that Moscow had launched 90 Iranian-made Shahed drones on nine Ukrainian regions, demonstrating that hostilities remain intense.",
         "Ukraine reports Russian attack with 90 drones", "on Sunday", "happened", ["Ukraine", "Moscow"]),
    ],
    "optimism_sunday": [
        ("003", "U.S. officials expressed optimism on Sunday, suggesting that a ceasefire deal between Ukraine and Russia could be reached within weeks.",
         "US officials say ceasefire deal possible within weeks", "on Sunday", "happened", ["U.S. officials"]),
    ],
    "zelensky_saturday": [
        ("003", "On Saturday, he accused the Kremlin of stalling, arguing that Moscow intends to improve its position on the battlefield before agreeing to any ceasefire terms.",
         "Zelensky accuses Kremlin of stalling", "On Saturday", "happened", ["Zelensky", "Kremlin"]),
    ],
    "zelensky_monday": [
        ("004", "Ukrainian President Volodymyr Zelensky, during his nightly address on Monday, blamed Putin for stalling the peace process.",
         "Zelensky blames Putin for stalling peace process", "on Monday", "happened", ["Volodymyr Zelensky", "Putin"]),
    ],
    "clash_last_month": [
        ("001", "Last month, he clashed with Zelensky in Washington, causing the Ukrainian leader to leave their meeting early.",
         "Trump clashes with Zelensky in Washington", "Last month", "happened", ["Trump", "Zelensky"]),
    ],
}


def seed_mentions() -> list[tuple[str, Mention]]:
    """(event label, mention) pairs."""
    pairs = []
    for label, reports in EVENTS.items():
        for offset, (article, quote, title, when, status, actors) in enumerate(reports):
            pairs.append((label, Mention(
                article=IDS[article], quote=quote, title=title, when=when, status=status, actors=actors,
                date=date_mention(when, quote, status, PUBLISHED[article]), offset=offset,
            )))
    return pairs
