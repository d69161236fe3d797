// The UDP seal alone: what one side seals the other opens, once; changed, replayed, reflected and
// other-key datagrams are refused; the replay window takes reordering within it and nothing older.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketType, UDP_BIND_ACK, encodeUdpBind, randomToken } from '../../sdk/protocol/index.js';
import {
  REPLAY_WINDOW, ReplayWindow, SEAL_HEADER_BYTES, SEAL_OVERHEAD, SEAL_TAG_BYTES, SEALED_BIND_BYTES, UdpSeal, encryptBody, newUdpKey, sealedBindToken,
} from '../../sdk/node/udpSeal.js';
import { pattern } from '../helpers.js';

const joined = (pieces: Uint8Array[]) => Buffer.concat(pieces);

test('a sealed datagram opens on the other side only, once, and hides its bytes', () => {
  const key = newUdpKey();
  const client = new UdpSeal(key, 'client');
  const relay = new UdpSeal(key, 'relay');
  const media = pattern(3000, 5);
  media[0] = PacketType.Media;
  const sealed = joined(client.seal(media));
  assert.equal(sealed.byteLength, media.byteLength + SEAL_HEADER_BYTES + SEAL_TAG_BYTES);
  assert.equal(sealed[0], PacketType.Sealed);
  assert.equal(sealed.indexOf(Buffer.from(media.subarray(100, 116))), -1, 'the plaintext does not appear in the datagram');

  const opened = relay.open(sealed);
  assert.ok(Buffer.isBuffer(opened));
  assert.deepEqual(new Uint8Array(opened), media);
  assert.equal(relay.open(sealed), 'replayed', 'the same datagram a second time');

  // The relay's answer opens at the client; sent back to the relay (reflected), it does not authenticate.
  const ack = joined(relay.seal(UDP_BIND_ACK));
  assert.equal(new UdpSeal(key, 'relay').open(ack), 'forged', 'a datagram of the other direction');
  assert.deepEqual(new Uint8Array(client.open(ack) as Buffer), UDP_BIND_ACK);

  // One bit changed anywhere (header, ciphertext, tag) and it is refused, leaving the window as it was.
  for (const at of [2, 7, 8, 500, sealed.byteLength - 1]) {
    const next = joined(client.seal(media));
    const changed = Buffer.from(next);
    // (At 7, a bit that makes the sequence number one not seen yet: a seen one is refused as a replay.)
    changed[at]! ^= at === 7 ? 0x40 : 0x01;
    assert.equal(relay.open(changed), 'forged', `bit flipped at ${at}`);
    assert.ok(Buffer.isBuffer(relay.open(next)), `the genuine datagram still opens after the one changed at ${at}`);
  }
  // Another connection's key, a short datagram, and a clear media packet are all forgeries. (A sequence
  // number already seen is refused as a replay before its tag is looked at: a fresh receiver here.)
  assert.equal(new UdpSeal(key, 'relay').open(joined(new UdpSeal(newUdpKey(), 'client').seal(media))), 'forged');
  assert.equal(relay.open(sealed.subarray(0, SEAL_HEADER_BYTES + SEAL_TAG_BYTES - 1)), 'forged');
  assert.equal(relay.open(media), 'forged');
});

test('a body encrypted once reaches each subscriber under its own key, and only unchanged', () => {
  const keys = [newUdpKey(), newUdpKey()];
  const relay = keys.map((k) => new UdpSeal(k, 'relay'));
  const clients = keys.map((k) => new UdpSeal(k, 'client'));
  const media = pattern(30_000, 9);
  media[0] = PacketType.Media;
  const shared = encryptBody(media);
  assert.equal(shared.body.indexOf(Buffer.from(media.subarray(200, 232))), -1, 'the body is not the plaintext');
  const pieces = relay.map((r) => r.sealShared(shared));
  assert.equal(pieces[0]![2], shared.body, 'the body itself goes out, not a copy');
  const datagrams = pieces.map(joined);
  assert.equal(datagrams[0]!.byteLength, media.byteLength + SEAL_OVERHEAD);
  assert.equal(datagrams[0]![0], PacketType.SealedShared);
  datagrams.forEach((d, i) => assert.deepEqual(new Uint8Array(clients[i]!.open(d) as Buffer), media, `subscriber ${i} opens it`));
  // Ben cannot open Ana's, nor can anyone pass off a changed body or key under Ana's tag.
  const next = joined(relay[0]!.sealShared(shared));
  assert.equal(new UdpSeal(keys[1]!, 'client').open(next), 'forged', 'sealed for another subscriber');
  for (const at of [SEAL_HEADER_BYTES + 3, SEAL_OVERHEAD - SEAL_TAG_BYTES + 1000, next.byteLength - 2]) {
    const changed = Buffer.from(next);
    changed[at]! ^= 0x04;
    assert.equal(clients[0]!.open(changed), 'forged', `byte ${at} changed`);
  }
  // A subscriber that knows a body's key (it was sent the body) cannot make another body pass: the tag is
  // under the other subscriber's connection key, over the body.
  const forgedBody = encryptBody(pattern(30_000, 10));
  const swapped = Buffer.concat([next.subarray(0, SEAL_OVERHEAD - SEAL_TAG_BYTES), forgedBody.body, next.subarray(next.byteLength - SEAL_TAG_BYTES)]);
  assert.equal(clients[0]!.open(swapped), 'forged', 'another body under the same tag');
  assert.deepEqual(new UdpSeal(keys[0]!, 'client').open(next) instanceof Buffer, true, 'the genuine one still opens for a fresh receiver');
  // The relay takes no shared-body datagram: only the relay sends them, so one even a client sealed with its own
  // key is refused.
  assert.equal(new UdpSeal(keys[0]!, 'relay').open(next), 'forged');
  assert.equal(new UdpSeal(keys[0]!, 'relay').open(joined(new UdpSeal(keys[0]!, 'client').sealShared(encryptBody(media)))), 'forged');
});

test('a sealed bind carries its token in the clear and a tag only the key holder makes', () => {
  const key = newUdpKey();
  const token = randomToken(16);
  const client = new UdpSeal(key, 'client');
  const relay = new UdpSeal(key, 'relay');
  const bind = client.sealBind(token);
  assert.equal(bind.byteLength, SEALED_BIND_BYTES);
  assert.equal(sealedBindToken(bind), token);
  assert.equal(relay.openBind(bind), undefined);
  assert.equal(relay.openBind(bind), 'replayed');
  assert.equal(relay.openBind(client.sealBind(token)), undefined, 'a resent bind has the next sequence number');
  assert.equal(new UdpSeal(key, 'relay').openBind(new UdpSeal(newUdpKey(), 'client').sealBind(token)), 'forged', 'another key');
  const changed = client.sealBind(randomToken(16));
  changed.set(Buffer.from(token, 'base64url'), 2);
  assert.equal(relay.openBind(changed), 'forged', 'a tag made for another token');
  assert.equal(relay.openBind(client.sealBind(token)), undefined, 'the refused bind left the window as it was');
  assert.equal(relay.openBind(encodeUdpBind(token)), 'forged', 'an unsealed bind');
  assert.equal(sealedBindToken(encodeUdpBind(token)), undefined);
});

test('the replay window takes each sequence number once, reordered within the window, and nothing older', () => {
  const w = new ReplayWindow();
  const take = (n: number) => {
    const fresh = w.fresh(n);
    if (fresh) w.saw(n);
    return fresh;
  };
  assert.equal(take(0), false, 'sequence numbers start at 1');
  assert.equal(take(5), true);
  assert.equal(take(3), true, 'reordered, within the window');
  assert.equal(take(3), false);
  assert.equal(take(5), false);
  assert.equal(take(4), true);
  assert.equal(take(5 + REPLAY_WINDOW), true, 'a jump ahead');
  assert.equal(take(5), false, 'now older than the window');
  assert.equal(take(6), true, 'the oldest sequence the window still holds, unseen');
  assert.equal(take(5 + REPLAY_WINDOW - 1), true);
  assert.equal(take(5 + REPLAY_WINDOW - 1), false);
  // A jump past the whole window forgets everything behind it.
  const far = 10 * REPLAY_WINDOW;
  assert.equal(take(far), true);
  assert.equal(take(far - REPLAY_WINDOW), false);
  assert.equal(take(far - REPLAY_WINDOW + 1), true);
  assert.equal(take(far - 1), true);
  assert.equal(take(far), false);
  assert.equal(take(2 ** 48 - 1), true, 'the last sequence number');
});

test('the example in docs/protocol.md §6.1 is what the seal makes', () => {
  const relay = new UdpSeal('AAAAAAAAAAAAAAAAAAAAAA', 'relay');
  const hex = joined(relay.seal(UDP_BIND_ACK)).toString('hex').match(/../g)!.join(' ');
  assert.equal(hex, '05 01 00 00 00 00 00 01 00 d9 44 c7 f8 c7 01 ec a3 22 b8 bd 42 10 df e4 9f c3');
});
