/**
 * The session shared by every lanconf element inside a `<lan-meeting>` (or any provider).
 * @module
 */
import { createContext } from '@lit/context';
import type { Session } from '../../sdk/index.js';

/** Context key for the current {@link Session}; `undefined` before joining and after leaving. */
export const sessionContext = createContext<Session | undefined>(Symbol.for('lanconf.session'));
