/**
 * The relay's embedded store: chat history, shared files' metadata and meeting bookkeeping, in SQLite
 * (better-sqlite3) inside the data dir, so they survive a restart. File contents live beside it, in
 * `files/` (see `relay/files/FileService.ts`).
 * @module
 * @internal
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ChatMessageInfo, FileInfo } from '../../sdk/protocol/index.js';

/** A shared file as stored: its wire description without the per-request URL, and its meeting. */
export type StoredFile = Omit<FileInfo, 'url'> & { meeting: string };

/** Chat rows kept per meeting; older ones are removed as new ones come. */
const CHAT_KEEP = 10_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chat (
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  meeting TEXT NOT NULL,
  id TEXT NOT NULL,
  sender TEXT NOT NULL,
  name TEXT NOT NULL,
  text TEXT NOT NULL,
  ts INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_by_meeting ON chat (meeting, n);
-- A resent chat message is looked up by its sender's sequence: without this, each miss scanned the meeting.
CREATE INDEX IF NOT EXISTS chat_by_sender ON chat (meeting, sender, seq);
CREATE TABLE IF NOT EXISTS files (
  meeting TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  sender TEXT NOT NULL,
  sender_name TEXT NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (meeting, id)
);
CREATE INDEX IF NOT EXISTS files_by_hash ON files (sha256);
-- The file list is read newest first, a page at a time.
CREATE INDEX IF NOT EXISTS files_by_time ON files (meeting, ts, id);
CREATE TABLE IF NOT EXISTS meetings (
  meeting TEXT PRIMARY KEY,
  emptied_at INTEGER
);
`;

interface ChatRow { id: string; sender: string; name: string; text: string; ts: number; seq: number }
interface FileRow { meeting: string; id: string; name: string; size: number; sha256: string; sender: string; sender_name: string; ts: number }

/** The SQLite store of one relay. */
export class Store {
  readonly #db: Database.Database;
  readonly #statements;
  /** Inserts per meeting since its last trim. */
  readonly #chatInserts = new Map<string, number>();

  /** Opens (creating if needed) `lanconf.db` in `dataDir`. */
  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.#db = new Database(join(dataDir, 'lanconf.db'));
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 2000');
    this.#db.exec(SCHEMA);
    const db = this.#db;
    this.#statements = {
      addChat: db.prepare('INSERT INTO chat (meeting, id, sender, name, text, ts, seq) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      chat: db.prepare('SELECT id, sender, name, text, ts, seq FROM (SELECT * FROM chat WHERE meeting = ? ORDER BY n DESC LIMIT ?) ORDER BY n'),
      trimChat: db.prepare('DELETE FROM chat WHERE meeting = ? AND n <= (SELECT n FROM chat WHERE meeting = ? ORDER BY n DESC LIMIT 1 OFFSET ?)'),
      addFile: db.prepare('INSERT INTO files (meeting, id, name, size, sha256, sender, sender_name, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      newestFiles: db.prepare('SELECT * FROM files WHERE meeting = ? ORDER BY ts DESC, id DESC LIMIT ?'),
      filesBefore: db.prepare('SELECT * FROM files WHERE meeting = ? AND (ts < ? OR (ts = ? AND id < ?)) ORDER BY ts DESC, id DESC LIMIT ?'),
      file: db.prepare('SELECT * FROM files WHERE meeting = ? AND id = ?'),
      fileTally: db.prepare('SELECT sender, COUNT(*) AS files, SUM(MAX(size, ?)) AS charge FROM files WHERE meeting = ? GROUP BY sender'),
      hashUsed: db.prepare('SELECT 1 FROM files WHERE sha256 = ? LIMIT 1'),
      hashes: db.prepare('SELECT DISTINCT sha256 FROM files'),
      meetingActive: db.prepare('INSERT INTO meetings (meeting, emptied_at) VALUES (?, NULL) ON CONFLICT (meeting) DO UPDATE SET emptied_at = NULL'),
      meetingEmptied: db.prepare('INSERT INTO meetings (meeting, emptied_at) VALUES (?, ?) ON CONFLICT (meeting) DO UPDATE SET emptied_at = excluded.emptied_at'),
      expired: db.prepare('SELECT meeting FROM meetings WHERE emptied_at IS NOT NULL AND emptied_at < ?'),
      removeFiles: db.prepare('DELETE FROM files WHERE meeting = ? RETURNING sha256'),
      removeChat: db.prepare('DELETE FROM chat WHERE meeting = ?'),
      forgetBefore: db.prepare('DELETE FROM meetings WHERE emptied_at IS NOT NULL AND emptied_at < ?'),
      emptyAll: db.prepare('UPDATE meetings SET emptied_at = ? WHERE emptied_at IS NULL'),
      chatId: db.prepare('SELECT id FROM chat WHERE meeting = ? AND sender = ? AND seq = ? ORDER BY n DESC LIMIT 1'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)'),
    };
  }

  /** A random secret kept for the life of the data dir (signs download links). */
  secret(): Buffer {
    this.#statements.setMeta.run('secret', randomBytes(32).toString('base64'));
    return Buffer.from((this.#statements.getMeta.get('secret') as { value: string }).value, 'base64');
  }

  /** Appends a chat message to a meeting's history. */
  addChat(meeting: string, message: ChatMessageInfo): void {
    this.#statements.addChat.run(meeting, message.id, message.from, message.name, message.text, message.ts, message.seq);
    const inserts = (this.#chatInserts.get(meeting) ?? 0) + 1;
    this.#chatInserts.set(meeting, inserts % 100);
    if (inserts === 100) this.#statements.trimChat.run(meeting, meeting, CHAT_KEEP);
  }

  /** The relay id of chat message `seq` from `sender`, if kept. */
  chatId(meeting: string, sender: string, seq: number): string | undefined {
    return (this.#statements.chatId.get(meeting, sender, seq) as { id: string } | undefined)?.id;
  }

  /** The last `limit` chat messages of a meeting, oldest first. */
  chatHistory(meeting: string, limit: number): ChatMessageInfo[] {
    if (limit <= 0) return [];
    return (this.#statements.chat.all(meeting, limit) as ChatRow[]).map((r) => ({
      id: r.id, from: r.sender, name: r.name, text: r.text, ts: r.ts, seq: r.seq,
    }));
  }

  /** Records a verified shared file. */
  addFile(file: StoredFile): void {
    this.#statements.addFile.run(file.meeting, file.id, file.name, file.size, file.sha256, file.from, file.fromName, file.ts);
  }

  /**
   * A page of a meeting's files, oldest first: the newest `limit` of those shared before `before` (by
   * time, then id), or of all of them.
   */
  filesPage(meeting: string, limit: number, before?: StoredFile): StoredFile[] {
    const rows = (before
      ? this.#statements.filesBefore.all(meeting, before.ts, before.ts, before.id, limit)
      : this.#statements.newestFiles.all(meeting, limit)) as FileRow[];
    return rows.reverse().map(fromRow);
  }

  /** One file of a meeting. */
  file(meeting: string, id: string): StoredFile | undefined {
    const row = this.#statements.file.get(meeting, id) as FileRow | undefined;
    return row && fromRow(row);
  }

  /**
   * How many files each participant shared in a meeting, and what they take of its quota: each file
   * counts its size, at least `minCharge` bytes.
   */
  fileTally(meeting: string, minCharge: number): Array<{ sender: string; files: number; charge: number }> {
    return this.#statements.fileTally.all(minCharge, meeting) as Array<{ sender: string; files: number; charge: number }>;
  }

  /** `true` while some meeting still has a file with this content. */
  hashInUse(sha256: string): boolean {
    return this.#statements.hashUsed.get(sha256) !== undefined;
  }

  /** Every content hash some meeting refers to. */
  hashes(): Set<string> {
    return new Set((this.#statements.hashes.all() as Array<{ sha256: string }>).map((r) => r.sha256));
  }

  /** The meeting has people in it: its files are kept. */
  meetingActive(meeting: string): void {
    this.#statements.meetingActive.run(meeting);
  }

  /** The meeting emptied at `at` (ms): its files go once the retention time has passed. */
  meetingEmptied(meeting: string, at: number): void {
    this.#statements.meetingEmptied.run(meeting, at);
  }

  /** After a restart nobody is in any meeting: they all count as emptied now, unless already. */
  allMeetingsEmptied(at: number): void {
    this.#statements.emptyAll.run(at);
  }

  /**
   * Removes the files of meetings empty since before `before` and returns their content hashes
   * (the caller deletes the contents no other meeting uses). Idempotent: a meeting whose files are gone
   * stays listed until its chat has gone too ({@link Store.expireChat}).
   */
  expireMeetings(before: number): string[] {
    const removed: string[] = [];
    const expire = this.#db.transaction(() => {
      for (const { meeting } of this.#statements.expired.all(before) as Array<{ meeting: string }>) {
        for (const row of this.#statements.removeFiles.all(meeting) as Array<{ sha256: string }>) removed.push(row.sha256);
      }
    });
    expire();
    return removed;
  }

  /**
   * Removes the chat of meetings empty since before `before` (a later meeting of the same name starts with no
   * history), and forgets the meetings whose files (`filesBefore`) and chat have both gone. Returns the
   * meetings whose chat was removed.
   */
  expireChat(before: number, filesBefore: number): string[] {
    const removed: string[] = [];
    const expire = this.#db.transaction(() => {
      for (const { meeting } of this.#statements.expired.all(before) as Array<{ meeting: string }>) {
        if (this.#statements.removeChat.run(meeting).changes > 0) removed.push(meeting);
        this.#chatInserts.delete(meeting);
      }
      this.#statements.forgetBefore.run(Math.min(before, filesBefore));
    });
    expire();
    return removed;
  }

  /** Closes the database. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function fromRow(r: FileRow): StoredFile {
  return { meeting: r.meeting, id: r.id, name: r.name, size: r.size, sha256: r.sha256, from: r.sender, fromName: r.sender_name, ts: r.ts };
}
