/**
 * The files manager's types: what an app sees (re-exported by `Files.ts` and the SDK's entries) and what
 * the manager and its parts need from the session and from each other.
 * @module
 */
import type { LanError } from '../errors.js';
import type { ClientMessage, FileInfo, Limits } from '../protocol/index.js';
import type { Sha256Factory } from './sha256.js';

/** Where a shared file stands for this session. */
export type SharedFileState = 'uploading' | 'offered' | 'downloading' | 'done' | 'failed';

/** A file of the meeting as this session sees it (what `files.list()` returns). */
export interface SharedFile {
  /** The file id; while your own upload is in progress, a local id (`upload-1`…). */
  id: string;
  /** The name as given (show it as text; save under `safeFileName(name)`). */
  name: string;
  size: number;
  /** SHA-256 (64 hex characters), once the relay has the whole file. */
  sha256?: string | undefined;
  /** Participant id of who shared it. */
  from: string;
  /** Their display name. */
  fromName: string;
  /** When it was offered (relay clock, ms). */
  timestamp: number;
  /** Absolute HTTP(S) URL to download it (Range requests work), once offered. */
  url?: string | undefined;
  state: SharedFileState;
  /** 0..1 while uploading or downloading. */
  progress?: number | undefined;
  /** `true` for files this session shared. */
  local: boolean;
  /** Why it failed, for `failed`. */
  error?: string | undefined;
}

/** A transfer's progress (the `fileProgress` event). */
export interface FileProgress {
  /** The file (or, during your upload, its local id). */
  id: string;
  direction: 'upload' | 'download';
  /** Bytes confirmed: by the relay for an upload, received for a download. */
  bytes: number;
  total: number;
  /** Average rate so far, bytes per second. */
  rate: number;
}

/** Events the files manager emits through its session. */
export type FileEvents = {
  /** Someone (you included) shared a file; it can be downloaded. */
  fileOffered: [file: SharedFile];
  /** An upload or download moved on (at most ten times a second per transfer, and at the end). */
  fileProgress: [progress: FileProgress];
  /** An upload was stored and verified, or a download received and verified. */
  fileCompleted: [file: SharedFile, direction: 'upload' | 'download'];
  /** An upload or download failed; `error.code` says why (`LAN_ERR_HASH_MISMATCH`, `LAN_ERR_QUOTA`…). */
  fileFailed: [file: SharedFile, error: LanError, direction: 'upload' | 'download'];
};

/**
 * What can be shared: a `File`/`Blob`, bytes, or a stream of bytes (give `size` for streams). Bytes a
 * stream has given must not change afterwards: they are sent as they are, without a copy, and kept
 * until the relay confirms them (to be sent again after a reconnect).
 */
export type FileSource = Blob | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Options of {@link Files.send}. */
export interface SendFileOptions {
  /** The name to show. Default: the `File`'s name; required for other sources. */
  name?: string;
  /** Exact size in bytes. Default: the `Blob`'s or array's size; required for streams. */
  size?: number;
  /** Abandons the upload. */
  signal?: AbortSignal;
}

/** Options of {@link Files.download} and {@link Files.stream}. */
export interface DownloadOptions {
  /**
   * Start at this byte (you kept the bytes before it from an earlier, interrupted download). The SDK
   * can only verify the SHA-256 of what it received whole, so a download resumed this way is checked
   * by length only; a download the SDK resumed itself after a dropped connection is fully verified.
   */
  resumeFrom?: number;
  /** Abandons the download. */
  signal?: AbortSignal;
}

/** What the files manager needs from its session. @internal */
export interface FilesHost {
  localId(): string;
  localName: string;
  limits: Limits;
  /** The relay's HTTP(S) base URL, for download links. */
  httpBase: string;
  sha256: Sha256Factory;
  connected(): boolean;
  send(message: ClientMessage): void;
  sendFile(header: Uint8Array, data: Uint8Array): void;
  emit<K extends keyof FileEvents>(event: K, ...args: FileEvents[K]): void;
}

/** Something whose progress events are spaced out (an upload, a download). @internal */
export interface ProgressHolder {
  /** When its last `fileProgress` went out (ms). */
  lastProgress: number;
  /** Where a download started: its rate counts the bytes since. */
  startOffset?: number;
}

/**
 * What the uploads and the downloads get from the {@link Files} manager that holds them: the session,
 * the meeting's list of files, progress events. @internal
 */
export interface TransferHost {
  readonly host: FilesHost;
  /** A file of the list by id. */
  file(id: string): SharedFile | undefined;
  /** Takes a file off the list (an upload's local entry, replaced by the file the relay offers). */
  forget(id: string): void;
  /** Changes a file of the list (its state, progress, error). */
  update(file: SharedFile, changes: Partial<SharedFile>): void;
  /** Puts a file the relay offers on the list and announces it (`fileOffered`). */
  offered(info: FileInfo): SharedFile;
  /**
   * A `fileProgress` event, at most every 100 ms per transfer unless `force`; the file's `progress`
   * follows while it is uploading or downloading.
   */
  progress(id: string, direction: 'upload' | 'download', bytes: number, total: number, startedAt: number,
    holder: ProgressHolder, force: boolean): void;
}
