#!/usr/bin/env python3
"""Writes fuzz/corpus/<target>/ seeds (small, hand-made; the bundle seed comes from the tests'
fixture: fuzz/seed-bundle.sh). Run from anywhere; rewrites the named files only."""
import json, os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def put(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)

NUL = "\x00"

# events: a flags byte (1 write key, 2 profile cookie of 12346, 4 "$TOKEN" -> identity token), then the body.
view = {"type": "track", "event": "Product Viewed", "messageId": "m1", "anonymousId": "a1", "properties": {"sku": "C100"}}
added = {"type": "track", "event": "Product Added", "messageId": "m2", "anonymousId": "a1", "userId": "12346", "properties": {"sku": "C100", "quantity": 2, "price": 4.5}}
order = {"type": "track", "event": "Order Completed", "messageId": "m3", "anonymousId": "a1", "userId": "12346",
         "properties": {"order_id": "o1", "products": [{"sku": "C100", "quantity": 1, "price": 4.5}]}, "context": {"utcOffsetMinutes": 60}}
ident = {"type": "identify", "messageId": "m4", "anonymousId": "a1", "userId": "12346",
         "traits": {"email": "Jane@Example.com", "phone": "+44 7400 100000", "first_name": "Jane"}}
consent = {"type": "consent", "messageId": "m5", "anonymousId": "a1", "userId": "12346", "channels": {"email": True, "sms": False}}
put("events", "one-view", "\x00" + json.dumps(view))
put("events", "batch-anonymous", "\x00" + json.dumps([view, added, order]))
put("events", "batch-token", "\x04" + json.dumps({"batch": [ident, consent, added, order], "identity": "$TOKEN"}))
put("events", "batch-cookie", "\x02" + json.dumps([ident, consent]))
put("events", "server", "\x01" + json.dumps([order, {"type": "page", "messageId": "m6", "userId": "12346"}]))
put("events", "refusals", "\x00" + json.dumps({"batch": ["not an event", {"type": "track", "event": "Product Exploded", "messageId": "m7", "anonymousId": "a1"}, {"type": 3}], "identity": 5}))

# cookies: Cookie headers. Known bug of issue #14: a repeated cart SKU overflowed its u32 quantity.
put("cookies", "cart-quantity-overflow", "vt_cart=A:1,A:4294967295")
put("cookies", "interests-weight-overflow", "vt_int=1|a:4294967295|b:4294967295")
put("cookies", "cart", 'vt_vid=0f8fad5b-d9cb-469f-a165-70867728950e; vt_cart=C100:2,K300,A%2CB:4,%E2%82%AC:1,bad:x,:3; vt_consent=1')
put("cookies", "interests", "vt_int=1699999000|Candles:2750,Kitchen:500|C100:917,K300:958,G200:1000; vt_cart=C101:1")
put("cookies", "profile", 'vt_profile={"cid":"12346","traits":{"segment":"Champions","first_name":"<img src=x onerror=alert(1)>"},"iat":1700000000}; vt_vid=0f8fad5b-d9cb-469f-a165-70867728950e')
put("cookies", "quoted", 'vt_int="5||"; =x; vt_cart=" C100 : 3 "; vt_profile=eyJjaWQiOiIxIn0.AAAA')

# tokens: [text, JWT header, JWT claims, link claims], NUL-separated.
put("tokens", "jwt", NUL.join(["eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", '{"alg":"HS256","typ":"JWT","kid":"fuzz-1"}',
                                '{"sub":"12346","exp":1700003600,"first_name":"Jane","email":"j@example.com"}',
                                '{"visitor":"u:12346","journey":"cart","step":1,"offer":"welcome10","products":["C100"],"exp":0,"unsubscribe":""}']))
put("tokens", "alg-none", NUL.join(["eyJhbGciOiJub25lIiwia2lkIjoiZnV6ei0xIn0.eyJzdWIiOiIxNzg1MCIsImV4cCI6OTk5OTk5OTk5OX0.",
                                     '{"alg":"none","kid":"fuzz-1"}', '{"sub":"17850","exp":9999999999}', '{"offer":"<b>","exp":1}']))
put("tokens", "profile-token", "eyJjaWQiOiIxMjM0NiJ9.c2lnbmF0dXJl")

# render: [slot template, item template, offer headline, offer code, values...]; bytes 1-15 are tags (see render.rs).
T = lambda *n: "".join(chr(i) for i in n)
slot = '<h2 class="t">' + T(1) + '</h2><ul>' + T(2) + '</ul><p>Hi ' + T(3) + ', ' + T(4) + ' (' + T(5) + ')</p><a href="/s?q=' + T(6) + '&u=' + T(7) + '">' + T(8) + '</a>' + T(9) + T(10) + T(15)
item = '<li data-sku="' + T(14) + '"><a href="' + T(11) + '"><img src="' + T(12) + '" alt="' + T(1) + '">' + T(1) + ' ' + T(13) + '</a></li>'
hostile = ['"><script>alert(1)</script>', "' onmouseover='alert(1)", "<img src=x onerror=alert(1)>", "java\tscript:alert(1)",
           "javascript:alert(1)", " JAVASCRIPT:alert(1)", "&lt;b&gt;", "{{{items}}}", "</ul><form>"]
put("render", "hostile", NUL.join([slot, item, "Come back " + T(4), "SAVE<10>"] + hostile))
put("render", "script-urls", NUL.join([slot, item, "Hi", ""] + ["java\tscript:alert(1)", "java&#9;script:alert(1)", "\x01javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>", "vbscript:msgbox(1)", "java\nscript:x"]))
put("render", "raw-braces", NUL.join(["{{x}} {{{traits.first_name}}} {{ unclosed {{{ }}} {{a|b|c}}", "{{{", "}}", "", "v"]))
put("render", "plain", NUL.join(["", "", "", "", "Jane"]))

# conditions: [condition, attributes, saved groups].
put("conditions", "operators", NUL.join([
    json.dumps({"$and": [{"country": {"$in": ["GB", "DE"]}}, {"cart.value": {"$gte": 30}}], "traits.segment": {"$regex": "^Champ"},
                "$or": [{"page.type": "home"}, {"utm.source": {"$exists": True}}], "tags": {"$elemMatch": {"$eq": "x"}}, "id": {"$inGroup": "vip"}}),
    json.dumps({"country": "GB", "cart": {"value": 31.5}, "traits": {"segment": "Champions"}, "page": {"type": "home"}, "tags": ["x"], "id": "1"}),
    json.dumps({"vip": ["1", "2"]})]))
put("conditions", "versions", NUL.join([json.dumps({"v": {"$vgt": "1.2.3-beta", "$vlt": "2.0"}, "n": {"$not": {"$lt": 3}}, "a": {"$size": {"$gt": 1}}, "b": {"$all": [1, 2]}, "$nor": [{"x": None}]}),
                                         json.dumps({"v": "1.10.0", "n": 4, "a": [1, 2], "b": [2, 1, 3], "x": 1}), "{}"]))
put("conditions", "bad-regex", NUL.join([json.dumps({"a": {"$regex": "(a+)+$"}, "b": {"$regex": "["}, "c": {"$type": "string"}}), json.dumps({"a": "a" * 30 + "!", "c": "s"}), ""]))

# csv_ingest: a flags byte (1 customers, 2 catalog first up to a NUL, 4 bad rows stop), then the CSV.
orders = ("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
          "536403,22867,HAND WARMER BIRD DESIGN,96,2010-12-01 11:27:00,1.85,50001,Netherlands\n"
          "536403,POST,POSTAGE,1,2010-12-01 11:27:00,15.0,50001,Netherlands\n"
          "536404,85123a,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,50002,United Kingdom\n"
          "C536405,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-02 09:00:00,2.55,50002,United Kingdom\n"
          "536406,22423,REGENCY CAKESTAND 3 TIER,4294967296,2010-12-02 10:00:00,12.75,,United Kingdom\n"
          "536407,22423,\"REGENCY, \"\"CAKESTAND\"\"\",1,,12.75,50003,France\n"
          "536408,22423,?,x,2010-13-45 99:99:99,-1,50003\n")
put("csv_ingest", "orders", "\x00" + orders)
catalog = ("id,title,url,image,price,category,brand,tags,in_stock\n"
           "22867,Hand warmer,/p/22867,/i/22867.jpg,1.85,Gifts,Acme,warm|bird,yes\n"
           "85123A,Heart holder,,,2.55,,,,no\n22867,dup,,,,,,,\n")
put("csv_ingest", "orders-catalog", "\x02" + catalog + NUL + orders)
customers = ("customer_id,first_name,last_name,email,phone,email_consent,sms_consent,consent_at,consent_source,created_at\n"
             "50001,Jane,Smith,Jane.Smith@Example.com ,+44 7400 100000,no,no,2010-01-01T10:00:00Z,checkout,2009-01-01\n"
             "50002,Tom,Rossi,tom@example.com,07400 100001,yes,yes,2010-02-02T10:00:00Z,newsletter form,2009-02-02\n"
             "50002,Dup,,,,maybe,,,,\n,,,,,,,,,\n")
put("csv_ingest", "customers", "\x01" + customers)
put("csv_ingest", "stop", "\x04" + orders)
