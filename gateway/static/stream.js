// The dashboard's server-sent events, read with fetch() because EventSource cannot send an
// Authorization header. Parses the text/event-stream format, reconnects with backoff.

import { authorization, problemOf } from "./common.js";

// Waits between attempts after consecutive failures (ms); jittered so that many pages do not
// come back at the same instant after a restart.
const BACKOFF = [1000, 2000, 5000, 10000, 20000, 30000];
// The server comments every 15 s: three silent periods mean the connection is dead even if
// the socket has not said so (a sleeping laptop, a proxy dropping the flow).
const SILENCE_MS = 45000;

// Splits text/event-stream text into messages: {event, id, data}. Feed it decoded chunks
// in order; a message is complete at a blank line.
export class EventStreamParser {
  constructor() {
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.event = "";
    this.data = [];
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    const messages = [];
    let match;
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    while ((match = lineEnd.exec(this.buffer)) !== null) {
      // A lone \r at the end of the buffer may be the first half of \r\n: wait for more.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const message = this.line(this.buffer.slice(start, match.index));
      if (message) messages.push(message);
      start = lineEnd.lastIndex;
    }
    this.buffer = this.buffer.slice(start);
    return messages;
  }

  line(text) {
    if (text === "") {
      const message = this.data.length ? { event: this.event || "message", id: this.id, data: this.data.join("\n") } : null;
      this.reset();
      return message;
    }
    if (text.startsWith(":")) return null;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id") this.id = value;
    return null;
  }
}

// Keeps one stream open while started: onMessage(message) for each message, onState("live" |
// "reconnecting"), onProblem(error) when an attempt fails (the error carries the HTTP status
// and problem document when the server answered).
export class LiveStream {
  constructor(url, { onMessage, onState, onProblem }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onProblem = onProblem;
    this.generation = 0;
    this.controller = null;
    this.wake = null;
  }

  start() {
    this.stop();
    this.run(this.generation);
  }

  stop() {
    this.generation += 1;
    this.controller?.abort();
    this.wake?.();
  }

  async run(generation) {
    let failures = 0;
    while (generation === this.generation) {
      this.onState("reconnecting");
      const delivered = await this.attempt(generation);
      if (generation !== this.generation) return;
      failures = delivered ? 0 : failures + 1;
      this.onState("reconnecting");
      const wait = BACKOFF[Math.min(failures, BACKOFF.length - 1)] * (0.8 + 0.4 * Math.random());
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  // One connection, read to its end; true if it brought at least one message.
  async attempt(generation) {
    const controller = new AbortController();
    this.controller = controller;
    let watchdog = null;
    let silent = false;
    const listen = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        silent = true;
        controller.abort();
      }, SILENCE_MS);
    };
    let delivered = false;
    try {
      listen();
      const response = await fetch(this.url, {
        headers: { ...authorization(), Accept: "text/event-stream" },
        signal: controller.signal,
        cache: "no-store",
      });
      if (!response.ok) throw await problemOf(response);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new EventStreamParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done || generation !== this.generation) break;
        listen();
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          if (generation !== this.generation) break;
          if (!delivered) {
            delivered = true;
            this.onState("live");
          }
          this.onMessage(message);
        }
      }
    } catch (error) {
      if (generation !== this.generation) return delivered;
      if (silent) this.onProblem(new Error(`no word from the server for ${SILENCE_MS / 1000} s`));
      else if (error.name !== "AbortError") this.onProblem(error);
    } finally {
      clearTimeout(watchdog);
      controller.abort();
    }
    return delivered;
  }
}
