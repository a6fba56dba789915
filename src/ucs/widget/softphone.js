// The browser softphone (CONTRACT §10): the microphone asked at provision(), one WebRTC
// connection per call into the call's audio on the server. The SDP offer and answer travel over
// the operator protocol (request "media.offer"); the component never talks to the media engine.
// The audio plays in the tab where the call was answered; the others keep controlling it.
// That tab remembers which calls it plays (sessionStorage, which a reload keeps and another
// tab does not share), so that after a reload it plays them again (playedHere()).

import { ProtocolError } from "./connection.js";

export const SOFTPHONE = "softphone";
const PLAYED_KEY = "ucs-softphone-played";

function mediaError(message) {
  return new ProtocolError("MEDIA_UNAVAILABLE", message);
}

export function supported() {
  return Boolean(window.RTCPeerConnection && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

export class Softphone {
  constructor(connection, config) {
    this.connection = connection;
    // Echo cancellation, noise suppression and gain control are on for people; an integrator
    // (or a test playing steady tones) may turn them off with audioProcessing: false.
    this.processing = config.audioProcessing !== false;
    this.stream = null;
    this.microphone = "";
    this.speaker = "";
    this.calls = new Map(); // uniqueid -> { pc, audio }
    this.analyser = null;
    this.context = null;
    this.onchange = () => {};
  }

  get open() {
    return this.stream !== null;
  }

  /** Ask for the microphone; MEDIA_UNAVAILABLE when refused or absent. */
  async start() {
    if (this.stream) return;
    if (!supported()) throw mediaError("this browser cannot be a softphone (no WebRTC or no microphone access)");
    const p = this.processing;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: p, noiseSuppression: p, autoGainControl: p },
        video: false,
      });
    } catch (err) {
      throw mediaError(`the microphone is not available: ${err && err.name ? err.name : err}`);
    }
    const track = this.stream.getAudioTracks()[0];
    if (!track) {
      this.stop();
      throw mediaError("the microphone is not available: no audio track");
    }
    this.microphone = track.label || "";
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      const out = devices.find((d) => d.kind === "audiooutput" && d.deviceId === "default")
        || devices.find((d) => d.kind === "audiooutput");
      this.speaker = out ? out.label : "";
    } catch (err) {
      this.speaker = "";
    }
    try {
      this.context = new AudioContext();
      this.analyser = this.context.createAnalyser();
      this.analyser.fftSize = 512;
      this.context.createMediaStreamSource(this.stream).connect(this.analyser);
    } catch (err) {
      this.analyser = null; // no meter, the calls still work
    }
    this.onchange();
  }

  /** The microphone's level now, 0..1 (the panel's meter). */
  level() {
    if (!this.analyser) return 0;
    const data = new Float32Array(this.analyser.fftSize);
    this.analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    return Math.min(1, Math.sqrt(sum / data.length) * 4);
  }

  /** Connect this tab's microphone and speaker to the call's audio (``party``
   * "supervisor": a call this supervisor listens to, or barges into; "coach": the second
   * connection of a whisper, kept as `${uniqueid}#coach`; ``hear`` false: not played, as a
   * whispering supervisor's coach connection, which hears the call on the first one). */
  async connect(uniqueid, party = "agent", hear = true) {
    if (!this.stream) await this.start();
    const key = party === "coach" ? `${uniqueid}#coach` : uniqueid;
    this.hangup(key);
    const pc = new RTCPeerConnection({ iceServers: [] });
    const audio = new Audio();
    audio.autoplay = true;
    audio.muted = !hear; // (its stream is still there: remote())
    const entry = { pc, audio };
    this.calls.set(key, entry);
    for (const track of this.stream.getAudioTracks()) pc.addTrack(track, this.stream);
    pc.ontrack = (e) => {
      audio.srcObject = e.streams[0] || new MediaStream([e.track]);
      audio.play().catch(() => {});
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (this.calls.get(key) !== entry) return; // hung up meanwhile
    const offer = { uniqueid, sdp: pc.localDescription.sdp };
    if (party !== "agent") offer.party = party;
    const result = await this.connection.request("media.offer", [offer]);
    await pc.setRemoteDescription({ type: "answer", sdp: result.sdp });
    if (party === "agent") this._remember(uniqueid, true);
    this.onchange();
  }

  /** The calls whose audio this tab played as the agent's before it was reloaded. */
  playedHere() {
    try {
      const kept = JSON.parse(window.sessionStorage.getItem(PLAYED_KEY) || "[]");
      return Array.isArray(kept) ? kept.filter((u) => typeof u === "string") : [];
    } catch {
      return [];
    }
  }

  _remember(uniqueid, playing) {
    const kept = this.playedHere().filter((u) => u !== uniqueid);
    if (playing) kept.push(uniqueid);
    try {
      window.sessionStorage.setItem(PLAYED_KEY, JSON.stringify(kept.slice(-8)));
    } catch { /* not kept: a reload will not play it again */ }
  }

  /** The incoming audio of a call, for the panel and tests (null when not connected here). */
  remote(uniqueid) {
    const entry = this.calls.get(uniqueid);
    return entry && entry.audio.srcObject ? entry.audio.srcObject : null;
  }

  /** Close a call's connection in this tab (a reload will not play it again). */
  hangup(uniqueid) {
    if (!uniqueid.endsWith("#coach")) this._remember(uniqueid, false);
    const entry = this.calls.get(uniqueid);
    if (!entry) return;
    this.calls.delete(uniqueid);
    entry.pc.close();
    entry.audio.srcObject = null;
    this.onchange();
  }

  stop() {
    for (const uniqueid of [...this.calls.keys()]) this.hangup(uniqueid);
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    if (this.context) this.context.close().catch(() => {});
    this.context = null;
    this.analyser = null;
    this.onchange();
  }
}

function gathered(pc) {
  // Half-trickle, as the engine expects: the offer goes once it holds every candidate.
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") {
        pc.removeEventListener("icegatheringstatechange", done);
        resolve();
      }
    };
    pc.addEventListener("icegatheringstatechange", done);
  });
}
