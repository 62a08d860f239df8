"""Finds English left on a page or in an e-mail meant to be German.

``english_words(html)`` reads what a person reads (text outside scripts and styles, and the
title, placeholder, aria-label, alt and button values of elements) and returns the words
that are English and not German. Data the test wrote (names, companies, addresses) must use
no such word; elements marked ``translate="no"`` (codes, identifiers) are skipped.
"""

import re
from html.parser import HTMLParser

# Words that are English and never German, nor product terms German teams use as they are
# (Lead, MQL, SLA, Score, Team, Marketing, Sales, Feed, Webhook, Export, Import, Name, Status).
ENGLISH = frozenset(
    """
    about above accept accepted accepting across act acted action actions active activities activity add added
    address after again against ago all allowed already also always am among an and answer answered answering
    answers any anyone anything are aren't as ask asked assign assigned at available average away back be
    became because been before being below between both breach breached breaches but by can cancel cannot
    can't change changed changes chart choose clear click close closed company contact could count create
    created current currently day days delete deleted did didn't do does doesn't don't done down due during
    each edit either else email empty end ended ends enter every everyone everything failed fewer field fields
    filters find first for found free from full get gets give given go goes going good got had has hasn't have
    haven't having he help her here hers hide high his history hour hours how however if in into is isn't it
    it's its just keep kept later least leave left less let like load loaded local low made make many may me
    mean might minutes missing month months more most move much must my need needs never new next no none nor
    not notes nothing now number of off often on once one only open or other our out over own page pages past
    people phone please previous queue quiet reason reasons reject rejected rejecting remove removed report
    reports required reset right same save saved search seen select send sent settings she should shown shows
    since so some someone something soon source sources started still such than that the their them then there
    these they this those through time times to today too try under undo until up updated upon us use used
    user users very view views was wasn't way we week weeks well were weren't what when where whether which
    while who whom whose why will with within without won't would year years yes yet you your yours
    """.split()
)
# Spelled the same in both languages: not evidence of English.
SHARED = frozenset("in an am so was will also".split())
CHECKED_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "aria-description", "data-confirm")
SKIPPED = ("script", "style", "template")
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # letters, umlauts included: "Frühere" is one word


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.texts = []

    def _skipping(self):
        return any(tag in SKIPPED or no for tag, no in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        no = attributes.get("translate") == "no"
        void = tag in ("input", "img", "br", "hr", "meta", "link", "source", "area", "col", "wbr", "base")
        if not void:
            self.stack.append((tag, no))
        if self._skipping() or no:
            return
        for name in CHECKED_ATTRIBUTES:
            if attributes.get(name):
                self.texts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button", "reset") and attributes.get("value"):
            self.texts.append(attributes["value"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.texts.append(data)


def readable_texts(html):
    """The pieces of text a reader sees in ``html``."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.texts


# Not words but identifiers and codes: "paid-search" (a source), "first_follow_up_at" (a CSV column of a
# machine format), "AT" (a country code), "MQL".
IDENTIFIER = re.compile(r"\b[a-z0-9]+(?:[-_][a-z0-9]+)+\b|\b[A-Z]{2,}\b")


def _words(text):
    return WORD.findall(IDENTIFIER.sub(" ", text))


def english_words(html, *, allow=()):
    """English words (with the text they stand in) a German ``html`` still shows; empty if none."""
    allowed = {word.lower() for word in allow}
    found = []
    for text in readable_texts(html):
        for word in _words(text):
            lower = word.lower()
            if lower in ENGLISH and lower not in SHARED and lower not in allowed:
                found.append(f"{word!r} in {' '.join(text.split())[:120]!r}")
    return found


def english_in_text(text, *, allow=()):
    """The same for a plain-text e-mail part or subject."""
    allowed = {word.lower() for word in allow}
    return [
        f"{word!r} in {' '.join(line.split())[:120]!r}"
        for line in text.splitlines()
        for word in _words(line)
        if word.lower() in ENGLISH and word.lower() not in SHARED and word.lower() not in allowed
    ]
