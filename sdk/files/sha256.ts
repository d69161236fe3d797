/**
 * Incremental SHA-256, fed chunk by chunk as a file streams (WebCrypto can only hash a whole buffer).
 * Browsers use `@noble/hashes`; `lanconf/node` plugs in `node:crypto`, which is ten times faster.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** A SHA-256 being computed. */
export interface Sha256 {
  /** Adds bytes. */
  update(data: Uint8Array): void;
  /** The hash of everything added, 64 lowercase hex characters. Call once. */
  digestHex(): string;
}

/** Makes a new {@link Sha256}. */
export type Sha256Factory = () => Sha256;

/** SHA-256 in plain JavaScript (`@noble/hashes`): works everywhere. */
export const portableSha256: Sha256Factory = () => {
  const hash = sha256.create();
  return {
    update: (data) => void hash.update(data),
    digestHex: () => bytesToHex(hash.digest()),
  };
};
