/**
 * lanconf web components. Placeholder until the components land: `<lan-meeting>`, `<lan-video-grid>`,
 * `<lan-chat>`, `<lan-files>`, `<lan-controls>`, `<lan-participants>` and `<lan-prejoin>` will be
 * exported from here.
 * @module lanconf/components
 */

/** The elements this module will define. */
export const ELEMENTS: readonly string[] = [];
