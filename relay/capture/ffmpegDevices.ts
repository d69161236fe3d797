/**
 * Camera device listing: `/dev/video*` on Linux, and what ffmpeg's `-list_devices` prints on macOS (AVFoundation)
 * and Windows (DirectShow).
 * @module
 * @internal
 */
import { readdir, readFile } from 'node:fs/promises';
import type { CaptureDevice } from './CaptureDevice.js';

/**
 * The video devices in `ffmpeg -f avfoundation -list_devices true -i ""` output (stderr). Ids are the indexes
 * ffmpeg takes as input (`-i 0`).
 * @internal
 */
export function parseAvfoundationDevices(text: string): CaptureDevice[] {
  const devices: CaptureDevice[] = [];
  let video = false;
  for (const line of text.split(/\r?\n/)) {
    if (/AVFoundation video devices/i.test(line)) video = true;
    else if (/AVFoundation audio devices/i.test(line)) video = false;
    else if (video) {
      const m = /\]\s*\[(\d+)\]\s*(.+?)\s*$/.exec(line);
      if (m) devices.push({ id: m[1]!, name: m[2]!, isDefault: devices.length === 0 });
    }
  }
  return devices;
}

/**
 * The video devices in `ffmpeg -list_devices true -f dshow -i dummy` output (stderr), in both the old layout
 * (a "DirectShow video devices" heading, then quoted names) and the new one (`"Name" (video)`). Ids are what
 * ffmpeg takes as input (`video=Name`).
 * @internal
 */
export function parseDshowDevices(text: string): CaptureDevice[] {
  const names: string[] = [];
  let section: 'video' | 'audio' | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/DirectShow video devices/i.test(line)) section = 'video';
    else if (/DirectShow audio devices/i.test(line)) section = 'audio';
    if (/Alternative name/i.test(line)) continue;
    const tagged = /\]\s*"(.+)"\s*\((video|audio|none)\)\s*$/.exec(line);
    if (tagged) {
      if (tagged[2] === 'video') names.push(tagged[1]!);
      continue;
    }
    const plain = /\]\s*"(.+)"\s*$/.exec(line);
    if (plain && section === 'video') names.push(plain[1]!);
  }
  return [...new Set(names)].map((name, i) => ({ id: `video=${name}`, name, isDefault: i === 0 }));
}

/**
 * The V4L2 capture devices of a Linux machine: `/dev/videoN` with the name the driver gives. Nodes that only carry
 * metadata (index > 0 of a camera that has several) are left out.
 * @internal
 */
export async function listV4l2Devices(): Promise<CaptureDevice[]> {
  let entries: string[];
  try {
    entries = await readdir('/dev');
  } catch {
    return [];
  }
  const nodes = entries.filter((e) => /^video\d+$/.test(e)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const devices: CaptureDevice[] = [];
  for (const node of nodes) {
    const sys = `/sys/class/video4linux/${node}`;
    const name = (await readFile(`${sys}/name`, 'utf8').catch(() => '')).trim() || node;
    const index = Number((await readFile(`${sys}/index`, 'utf8').catch(() => '0')).trim());
    if (index > 0) continue;
    devices.push({ id: `/dev/${node}`, name, isDefault: devices.length === 0, details: 'v4l2' });
  }
  return devices;
}
