// The live stream: one WebSocket, reconnected with backoff, messages passed to handlers.

export class LiveStream {
  constructor(api, { onTracks, onAlert, onHello, onState }) {
    this.api = api;
    this.handlers = { onTracks, onAlert, onHello, onState: onState || (() => {}) };
    this.socket = null;
    this.closed = false;
    this.retry = 1000;
    this.messages = 0;
  }

  open() {
    this.closed = false;
    const socket = new WebSocket(this.api.streamUrl());
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 1000;
      this.handlers.onState("up");
    };
    socket.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.handle(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.handlers.onState("down");
      if (!this.closed) {
        setTimeout(() => { if (!this.closed) this.open(); }, this.retry);
        this.retry = Math.min(this.retry * 2, 10000);
      }
    };
  }

  // One decoded message from the server (also the entry point the map benchmark feeds).
  handle(message) {
    this.messages++;
    if (message.type === "tracks") this.handlers.onTracks(message);
    else if (message.type === "alert") this.handlers.onAlert(message.event);
    else if (message.type === "hello") this.handlers.onHello(message);
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close();
    this.socket = null;
  }
}
