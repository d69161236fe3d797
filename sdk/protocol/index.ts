/**
 * The lanconf wire protocol, shared by the SDK and the relay. Documented byte by byte in `docs/protocol.md`.
 * @module
 */
export * from './constants.js';
export * from './ids.js';
export * from './media.js';
export * from './control.js';
export * from './framing.js';
export * from './udp.js';
export * from './fileChunk.js';
export { Reassembler, ReassemblyBudget, type ReassemblerOptions } from './Reassembler.js';
