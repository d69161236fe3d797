/**
 * The order of `<lan-participants>`: you first, then the hosts, then everyone else by name.
 * @module
 */

/** What the order of the participant list depends on. */
export interface ParticipantSortKey {
  id: string;
  name: string;
  /** You. */
  local: boolean;
  role: 'host' | 'guest';
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/**
 * Sorts a copy of `people`: you first, then hosts, then by name (case- and accent-insensitive, "Ana 2"
 * before "Ana 10"); equal names keep a stable order by id.
 *
 * @example
 * ```ts
 * sortParticipants([{ id: 'b', name: 'Ben', local: false, role: 'guest' }, { id: 'a', name: 'Ana', local: true, role: 'guest' }]);
 * // → Ana (you), Ben
 * ```
 */
export function sortParticipants<T extends ParticipantSortKey>(people: readonly T[]): T[] {
  return [...people].sort((a, b) =>
    Number(b.local) - Number(a.local)
    || Number(b.role === 'host') - Number(a.role === 'host')
    || collator.compare(a.name, b.name)
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** "1 participant", "3 participants". */
export function participantCount(count: number): string {
  return `${count} ${count === 1 ? 'participant' : 'participants'}`;
}
