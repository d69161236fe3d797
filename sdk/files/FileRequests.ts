/**
 * The files manager's requests to the relay (`fileUpload`, `fileDownload`, `fileList`) and their answers.
 * @module
 * @internal
 */
import { ConnectionError, type LanError } from '../errors.js';
import type { ClientMessage, RelayMessageOf } from '../protocol/index.js';

/** A request not answered within this time fails (ms). */
const REQUEST_TIMEOUT_MS = 15_000;

/** The answers a files request gets. */
export type FileAnswer = 'fileUploadReady' | 'fileDownloadReady' | 'fileListPage';

interface Request {
  /** What was sent (sent again after a resume: the answer may have been lost with the connection). */
  message: ClientMessage;
  resolve(message: RelayMessageOf<FileAnswer>): void;
  reject(error: LanError): void;
}

/**
 * Requests waiting for their answer: each gets a request id (`f1`, `f2`…), is settled by the answer or
 * an `error` with that id, and fails when the relay says nothing for 15 s. @internal
 */
export class FileRequests {
  readonly #send: (message: ClientMessage) => void;
  readonly #pending = new Map<string, Request>();
  #seq = 0;

  constructor(send: (message: ClientMessage) => void) {
    this.#send = send;
  }

  /**
   * Sends a request and waits for its answer; the answer's `requestId` is filled in here. `onAnswer`
   * runs as the answer is handled, before anything after it: a download's first chunk can come in the
   * same read as its `fileDownloadReady`, and must find the download registered.
   */
  request<T extends FileAnswer>(message: Extract<ClientMessage, { requestId: string }>,
    onAnswer?: (answer: RelayMessageOf<T>) => void): Promise<RelayMessageOf<T>> {
    const requestId = `f${++this.#seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.#pending.delete(requestId)) return;
        reject(ConnectionError.timeout(`the relay answering "${message.type}"`, REQUEST_TIMEOUT_MS));
      }, REQUEST_TIMEOUT_MS);
      const full = { ...message, requestId } as ClientMessage;
      this.#pending.set(requestId, {
        message: full,
        resolve: (m) => {
          clearTimeout(timer);
          onAnswer?.(m as RelayMessageOf<T>);
          resolve(m as RelayMessageOf<T>);
        },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.#send(full);
    });
  }

  /** An answer from the relay: settles its request (an answer to none is dropped). */
  answer(message: RelayMessageOf<FileAnswer>): void {
    const request = this.#pending.get(message.requestId);
    this.#pending.delete(message.requestId);
    request?.resolve(message);
  }

  /** The relay refused request `requestId`. `true` when it was one of these. */
  refuse(requestId: string, error: LanError): boolean {
    const request = this.#pending.get(requestId);
    if (!request) return false;
    this.#pending.delete(requestId);
    request.reject(error);
    return true;
  }

  /** The requests not answered yet, as sent (to send again after a resume). */
  unanswered(): ClientMessage[] {
    return [...this.#pending.values()].map((r) => r.message);
  }

  /** Fails every request waiting. */
  close(error: LanError): void {
    for (const request of this.#pending.values()) request.reject(error);
    this.#pending.clear();
  }
}
