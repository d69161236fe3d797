/**
 * Registers `<lan-participants>`.
 * @module
 */
import { LanParticipants } from './participants.component.js';

export { LanParticipants };
export { sortParticipants, participantCount, type ParticipantSortKey } from './order.js';

if (!customElements.get('lan-participants')) customElements.define('lan-participants', LanParticipants);

declare global {
  interface HTMLElementTagNameMap {
    'lan-participants': LanParticipants;
  }
}
