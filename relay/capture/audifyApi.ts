/**
 * The part of the optional `audify` package the audio adapters use, typed here so that lanconf type-checks and
 * builds without audify installed. Its enums are ambient `const enum`s, which isolated-module compilers cannot
 * read, hence the numbers.
 * @module
 * @internal
 */

/** RtAudio device info, as audify returns it. @internal */
export interface RtAudioDeviceInfo {
  id: number;
  name: string;
  outputChannels: number;
  inputChannels: number;
  isDefaultOutput: number | boolean;
  isDefaultInput: number | boolean;
  sampleRates: number[];
  preferredSampleRate: number;
}

/** Stream parameters of `RtAudio.openStream`. @internal */
export interface RtAudioStreamParameters {
  deviceId?: number;
  nChannels: number;
  firstChannel?: number;
}

/** An RtAudio instance (one stream). @internal */
export interface RtAudioInstance {
  getApi(): string;
  getDevices(): RtAudioDeviceInfo[];
  getDefaultInputDevice(): number;
  getDefaultOutputDevice(): number;
  openStream(
    output: RtAudioStreamParameters | null, input: RtAudioStreamParameters | null, format: number, sampleRate: number,
    frameSize: number, streamName: string, inputCallback: ((data: Buffer) => void) | null,
    frameOutputCallback: (() => void) | null, flags?: number, errorCallback?: ((type: number, message: string) => void) | null,
  ): number;
  start(): void;
  stop(): void;
  closeStream(): void;
  isStreamOpen(): boolean;
  write(pcm: Buffer): void;
  clearOutputQueue(): void;
}

/** An Opus encoder. @internal */
export interface OpusEncoderInstance {
  bitrate: number;
  encode(pcm: Buffer, frameSize: number): Buffer;
}

/** An Opus decoder. @internal */
export interface OpusDecoderInstance {
  decode(data: Buffer, frameSize: number): Buffer;
}

/** The audify module. @internal */
export interface AudifyModule {
  RtAudio: new (api?: number) => RtAudioInstance;
  OpusEncoder: new (sampleRate: number, channels: number, application: number) => OpusEncoderInstance;
  OpusDecoder: new (sampleRate: number, channels: number) => OpusDecoderInstance;
}

/** `RtAudioApi` values. @internal */
export const RtAudioApi = {
  unspecified: 0, core: 1, alsa: 2, jack: 3, pulse: 4, oss: 5, asio: 6, wasapi: 7, ds: 8, dummy: 9,
} as const;

/** An audio API: `pulse`, `alsa`, `jack`, `oss` (Linux), `core` (macOS), `wasapi`, `ds`, `asio` (Windows), or `default`. */
export type AudioApiName = 'pulse' | 'alsa' | 'jack' | 'oss' | 'core' | 'wasapi' | 'ds' | 'asio' | 'default';

/** `RtAudioFormat.RTAUDIO_SINT16`. @internal */
export const RTAUDIO_SINT16 = 0x2;
/** `OpusApplication.OPUS_APPLICATION_VOIP`. @internal */
export const OPUS_APPLICATION_VOIP = 2048;
