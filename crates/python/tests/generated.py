"""Generated documents for the equivalence tests: article sentences around
boilerplate of every rule kind, non-ASCII text, CRLF line ends, empty and
boilerplate-only documents. Deterministic for a given seed."""

import random

PROSE = [
    "The council approved the new budget after a long debate on Tuesday evening.",
    "Researchers said the findings could change how the disease is treated.",
    "Le ministre a présenté le projet de loi devant l'Assemblée nationale.",
    "Москва объявила о новых мерах поддержки малого бизнеса.",
    "東京の気温は今週末にかけて平年を上回る見込みです。",
    "She had worked at the factory for twenty years before it closed.",
    "Prices rose 3.2% in March, the fastest pace since 2011.",
    "“We did not expect this,” the mayor said — and nobody did.",
]

CHAFF = [
    "Share This",
    "Share on Facebook",
    "Back to top",
    "Subscribe to our newsletter",
    "Click here to subscribe",
    "Photo: Reuters",
    "Related Articles",
    "Leave a Reply",
    "You must be logged in to post a comment.",
    "Copyright © 2019 Example News. All rights reserved.",
    "Advertisement",
    "Read more",
    "Tags: politics, economy",
    "Posted in News",
    "Follow us on Twitter",
    "Comments are closed.",
    "Previous Post",
    "Next Post",
    "Sign up for our newsletter to get the latest news.",
    "Translate »",
    "Print this page",
]


def documents(count: int, seed: int = 7, extra_lines=()):
    rng = random.Random(seed)
    pool = list(PROSE) + list(extra_lines)
    docs = ["", "\n\n", "Share This\nBack to top\n"]
    for _ in range(count - len(docs)):
        lines = []
        for _ in range(rng.randint(1, 25)):
            roll = rng.random()
            if roll < 0.55:
                lines.append(rng.choice(pool))
            elif roll < 0.85:
                lines.append(rng.choice(CHAFF))
            else:
                lines.append(rng.choice(["", "   ", "\t"]))
        text = "\n".join(lines)
        if rng.random() < 0.3:
            text = text.replace("\n", "\r\n")
        if rng.random() < 0.7:
            text += "\n"
        docs.append(text)
    return docs
