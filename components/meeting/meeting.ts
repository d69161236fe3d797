/**
 * Registers `<lan-meeting>` (and, through its imports, every element it is made of).
 * @module
 */
import { LanMeeting } from './meeting.component.js';

export { LanMeeting };
export type { MeetingPanel, MeetingStage } from './meeting.component.js';

if (!customElements.get('lan-meeting')) customElements.define('lan-meeting', LanMeeting);

declare global {
  interface HTMLElementTagNameMap {
    'lan-meeting': LanMeeting;
  }
}
