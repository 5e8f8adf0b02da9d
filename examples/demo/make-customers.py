#!/usr/bin/env python3
"""Writes customers.csv for the demo: a made-up customers export (names, contacts, consent)
for the demo's customer ids (orders.csv), plus a few customers without an order yet.
Synthetic on purpose: names from short lists, emails at example.com (reserved by RFC 2606),
mobile numbers in 07400 1xxxxx (the phone library calls Ofcom's drama range
07700 900xxx invalid, so it cannot stand in here). Deterministic: run it again, same file.

    python3 examples/demo/make-customers.py > examples/demo/customers.csv
"""
import csv, sys
from pathlib import Path

FIRST = ["Jane", "Tom", "Priya", "Olu", "Mei", "Lars", "Ana", "Sam", "Noor", "Felix", "Ines", "Kai",
         "Rosa", "Ben", "Aiko", "Omar", "Lena", "Raj", "Zoe", "Hugo", "Maya", "Ivan", "Chloe", "Yusuf"]
LAST = ["Smith", "Okafor", "Patel", "Jensen", "Garcia", "Nguyen", "Kowalski", "Rossi", "Haddad",
        "Murphy", "Silva", "Tanaka", "Dubois", "Novak", "Ahmed", "Berg", "Costa", "Walsh", "Meyer"]
SOURCES = ["checkout", "newsletter form", "account page"]

here = Path(__file__).parent
ids = sorted({r["CustomerID"] for r in csv.DictReader(open(here / "orders.csv")) if r["CustomerID"]})
ids += [str(59001 + i) for i in range(12)]  # registered, no order yet

out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["customer_id", "first_name", "last_name", "email", "phone", "email_consent", "sms_consent", "consent_at", "consent_source", "created_at"])
for n, cid in enumerate(ids):
    first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
    email = f"{first}.{last}.{cid}@example.com".lower()
    if n % 9 == 4:
        phone = ""                                   # no phone given
    elif n % 23 == 5:
        phone = "12345"                              # not a number: kept aside, never texted
    elif n % 2:
        phone = f"07400 1{n % 100000:05d}"          # national format
    else:
        phone = f"+44 7400 1{n % 100000:05d}"      # international format
    email_consent = "yes" if n % 3 else "no"
    sms_consent = "yes" if n % 4 == 1 else "no"
    day = 1 + n % 28
    out.writerow([cid, first, last, email, phone, email_consent, sms_consent,
                  f"2010-{1 + n % 12:02d}-{day:02d}T10:00:00Z", SOURCES[n % 3], f"2009-{1 + n % 12:02d}-{day:02d}"])
