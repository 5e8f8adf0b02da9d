// The independent side of edge/tests/webpush_node.rs: npm's `web-push` and `http_ece` (pinned in
// scripts/tools-package.json) and Node's own crypto (OpenSSL) check what the Rust code sent.
//
//   node check.cjs keys         -> a browser's subscription keys, a store's VAPID keys (as the
//                                  web-push tools make them) and the per-message random bytes
//   node check.cjs check FILE   -> reads our requests from FILE (JSON), decrypts each body,
//                                  re-encrypts it with http_ece from the same random bytes (when
//                                  the file has them: not for what the worker sent, whose bytes
//                                  only it knows), and verifies the VAPID JWT and the FCM
//                                  assertion; prints JSON
//
// Modules are found through NODE_PATH (the test sets it to $VITRINE_TOOLS/node/node_modules).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const ece = require('http_ece');
const webpush = require('web-push');

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const unb64u = (text) => Buffer.from(text, 'base64url');

function keys(count) {
  const browsers = [];
  for (let i = 0; i < count; i++) {
    // What a browser does on pushManager.subscribe(): a P-256 ECDH pair and a 16-byte secret.
    const ua = crypto.createECDH('prime256v1');
    ua.generateKeys();
    browsers.push({
      p256dh: b64u(ua.getPublicKey()),
      auth: b64u(crypto.randomBytes(16)),
      ua_private: b64u(ua.getPrivateKey()),
      // What the runtime draws per message (crypto.getRandomValues).
      sender_secret: b64u(crypto.randomBytes(32)),
      salt: b64u(crypto.randomBytes(16)),
    });
  }
  return { browsers, vapid: webpush.generateVAPIDKeys() };
}

// ES256 over the JWS signing input, the signature raw r||s (JWS), the key a raw P-256 point.
function verifyEs256(jwt, pointB64u) {
  const point = unb64u(pointB64u);
  const key = crypto.createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)) },
    format: 'jwk',
  });
  const [h, c, s] = jwt.split('.');
  const ok = crypto.verify('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: 'ieee-p1363' }, unb64u(s));
  return { ok, header: JSON.parse(unb64u(h)), claims: JSON.parse(unb64u(c)) };
}

function verifyRs256(jwt, privatePem) {
  const key = crypto.createPublicKey(crypto.createPrivateKey(privatePem));
  const [h, c, s] = jwt.split('.');
  const ok = crypto.verify('sha256', Buffer.from(`${h}.${c}`), { key, padding: crypto.constants.RSA_PKCS1_PADDING }, unb64u(s));
  return { ok, header: JSON.parse(unb64u(h)), claims: JSON.parse(unb64u(c)) };
}

function check(file) {
  const input = JSON.parse(fs.readFileSync(file, 'utf8'));
  const messages = input.messages.map((m) => {
    const body = Buffer.from(m.body_base64, 'base64');
    const header = (name) => (m.headers.find(([k]) => k.toLowerCase() === name.toLowerCase()) || [])[1];
    // The browser's side: its private key and auth secret decrypt what we sent.
    const ua = crypto.createECDH('prime256v1');
    ua.setPrivateKey(unb64u(m.browser.ua_private));
    const plaintext = ece.decrypt(body, { version: 'aes128gcm', privateKey: ua, authSecret: m.browser.auth });
    // http_ece encrypting from the same ephemeral key and salt writes the same bytes.
    let again = null;
    if (m.browser.sender_secret) {
      const sender = crypto.createECDH('prime256v1');
      sender.setPrivateKey(unb64u(m.browser.sender_secret));
      again = ece.encrypt(plaintext, {
        version: 'aes128gcm',
        privateKey: sender,
        dh: m.browser.p256dh,
        authSecret: m.browser.auth,
        salt: m.browser.salt,
        rs: 4096,
      });
    }
    // VAPID: `vapid t=<jwt>, k=<key>` (RFC 8292 §3), the JWT verified with the store's key.
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header('Authorization') || '');
    const vapid = auth ? verifyEs256(auth[1], auth[2]) : { ok: false };
    return {
      plaintext: plaintext.toString('utf8'),
      same_bytes_as_http_ece: again ? again.equals(body) : null,
      content_encoding: header('Content-Encoding'),
      ttl: header('TTL'),
      vapid_key_is_the_stores: auth ? auth[2] === input.vapid_public_key : false,
      vapid_signature_ok: vapid.ok,
      vapid_header: vapid.header,
      vapid_claims: vapid.claims,
    };
  });
  const fcm = input.fcm ? verifyRs256(input.fcm.assertion, input.fcm.private_key_pem) : null;
  return { messages, fcm };
}

const [command, arg] = process.argv.slice(2);
if (command === 'keys') {
  process.stdout.write(JSON.stringify(keys(Number(arg) || 1)));
} else if (command === 'check') {
  process.stdout.write(JSON.stringify(check(arg)));
} else {
  process.stderr.write('usage: check.cjs keys [N] | check FILE\n');
  process.exit(2);
}
