/**
 * Every fuzz target, in the order `npm run fuzz` runs them.
 * @module
 */
import type { FuzzTarget } from '../target.js';
import { controlTarget } from './control.js';
import { fileChunkTarget } from './fileChunk.js';
import { fileNamesTarget } from './fileNames.js';
import { httpRangeTarget } from './httpRange.js';
import { mediaHeaderTarget } from './mediaHeader.js';
import { reassemblerTarget } from './reassembler.js';
import { tcpFramingTarget } from './tcpFraming.js';
import { udpBindTarget } from './udpBind.js';
import { udpSealTarget } from './udpSeal.js';
import { wsHandshakeTarget } from './wsHandshake.js';

/** The targets (a target's input type is its own business: the runner only passes inputs through). */
export const TARGETS: ReadonlyArray<FuzzTarget<unknown>> = [
  controlTarget, mediaHeaderTarget, fileChunkTarget, udpBindTarget, udpSealTarget, tcpFramingTarget, reassemblerTarget,
  fileNamesTarget, httpRangeTarget, wsHandshakeTarget,
] as unknown as ReadonlyArray<FuzzTarget<unknown>>;
