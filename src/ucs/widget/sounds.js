// The five ringtones of the document, synthesised with Web Audio: no sound files to license.

const NOTES = {
  C4: 261.63, D4: 293.66, E4: 329.63, F4: 349.23, G4: 392.0, A4: 440.0, B4: 493.88,
  C5: 523.25, D5: 587.33, E5: 659.25, F5: 698.46, G5: 783.99, A5: 880.0,
};

// Each tune: [note or frequency pair, beats]; "-" is a rest. Played at `tempo` beats a second.
const TUNES = {
  default: { tempo: 8, wave: "sine", notes: [[[440, 480], 8], ["-", 16]] }, // a phone's ring
  christmas: { tempo: 5, wave: "triangle",
    notes: [["E5", 1], ["E5", 1], ["E5", 2], ["E5", 1], ["E5", 1], ["E5", 2],
            ["E5", 1], ["G5", 1], ["C5", 1.5], ["D5", 0.5], ["E5", 3], ["-", 4]] },
  lovingYou: { tempo: 3, wave: "sine",
    notes: [["C5", 1], ["E5", 1], ["G5", 2], ["F5", 1], ["E5", 1], ["D5", 2], ["-", 3]] },
  quest: { tempo: 6, wave: "square",
    notes: [["G4", 1], ["C5", 1], ["E5", 1], ["G5", 2], ["E5", 1], ["G5", 3], ["-", 5]] },
  rush: { tempo: 12, wave: "sawtooth",
    notes: [["A4", 1], ["A5", 1], ["A4", 1], ["A5", 1], ["A4", 1], ["A5", 1], ["-", 6]] },
};

export class Ringer {
  constructor() {
    this.context = null;
    this.timer = null;
    this.playing = null;
    this.master = null;
  }

  _ctx() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!this.context || this.context.state === "closed") this.context = new Ctx();
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
    return this.context;
  }

  _playOnce(name) {
    const ctx = this._ctx();
    const tune = TUNES[name] || TUNES.default;
    if (!ctx) return 1000;
    let at = ctx.currentTime + 0.05;
    const beat = 1 / tune.tempo;
    for (const [note, beats] of tune.notes) {
      const length = beats * beat;
      if (note !== "-") {
        const freqs = Array.isArray(note) ? note : [NOTES[note]];
        for (const freq of freqs) {
          const osc = ctx.createOscillator();
          const gain = ctx.createGain();
          osc.type = tune.wave;
          osc.frequency.value = freq;
          gain.gain.setValueAtTime(0.0001, at);
          gain.gain.exponentialRampToValueAtTime(0.15 / freqs.length, at + 0.02);
          gain.gain.exponentialRampToValueAtTime(0.0001, at + length * 0.95);
          osc.connect(gain).connect(this.master || ctx.destination);
          osc.start(at);
          osc.stop(at + length);
        }
      }
      at += length;
    }
    return (at - ctx.currentTime) * 1000;
  }

  /** Ring with `name` until stop(); `once` plays it a single time (the test button). */
  play(name, { once = false, done = () => {} } = {}) {
    this.stop();
    this.playing = name;
    const ctx = this._ctx();
    if (ctx) {
      // Everything this play schedules goes through one node, so that stop() silences it all.
      this.master = ctx.createGain();
      this.master.connect(ctx.destination);
    }
    const loop = () => {
      const ms = this._playOnce(name);
      if (!once) this.timer = setTimeout(loop, ms);
      else this.timer = setTimeout(() => { this.playing = null; done(); }, ms);
    };
    loop();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.playing = null;
    // Cut off what is scheduled; keep the context (made once, ideally on a click) for later.
    if (this.master) {
      this.master.disconnect();
      this.master = null;
    }
  }
}
