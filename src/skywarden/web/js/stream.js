// The live stream: one WebSocket, reconnected with backoff, messages passed to handlers.
// It carries only what is inside the box the map asks for (`setBBox`): the server then
// sends the picture inside the new box and `ended` for the tracks that left it.

const DRAIN_BUDGET_MS = 10;

export class LiveStream {
  constructor(api, { onTracks, onAlert, onAlertWithdrawn, onHello, onState }) {
    this.api = api;
    this.handlers = {
      onTracks, onAlert, onHello,
      onAlertWithdrawn: onAlertWithdrawn || (() => {}),
      onState: onState || (() => {}),
    };
    this.socket = null;
    this.closed = false;
    this.retry = 1000;
    this.messages = 0;
    this.bbox = null;       // [w, s, e, n] asked for, or null for everything
    this.queue = [];        // message texts received, not decoded yet
  }

  // A new box; sent at once when the socket is open, else with the next connection.
  setBBox(bbox) {
    this.bbox = bbox ? bbox.slice() : null;
    this.sendBBox();
  }

  sendBBox() {
    const socket = this.socket;
    const key = JSON.stringify(this.bbox);
    if (!socket || socket.readyState !== WebSocket.OPEN || socket.bboxSent === key) return;
    socket.send(JSON.stringify({ bbox: this.bbox }));
    socket.bboxSent = key;
  }

  open() {
    this.closed = false;
    const socket = new WebSocket(this.api.streamUrl(this.bbox));
    socket.bboxSent = JSON.stringify(this.bbox);
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 1000;
      this.handlers.onState("up");
      this.sendBBox();  // the box changed while connecting
    };
    socket.onmessage = (event) => this.receive(event.data);
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

  // Each message is decoded and handled in a task of its own once the frame under way has
  // been drawn (or after 100 ms where no frame comes, e.g. in a hidden tab): a picture of
  // thousands of tracks is megabytes of JSON, which the server sends as several messages
  // of a thousand tracks, and one task for them all would be a frame the map cannot draw.
  receive(text) {
    this.queue.push(text);
    if (this.queue.length === 1) this.next();
  }

  next() {
    let done = false;
    const run = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      setTimeout(() => this.drainOne(), 0);
    };
    const timer = setTimeout(run, 100);
    requestAnimationFrame(run);
  }

  // At least one message a task, more while they take under DRAIN_BUDGET_MS: the small
  // messages of busy ticks (twenty a second) go together, a large one goes alone.
  drainOne() {
    const began = performance.now();
    do {
      let message = null;
      try { message = JSON.parse(this.queue.shift()); } catch { message = null; }
      if (message) this.handle(message);
    } while (this.queue.length && performance.now() - began < DRAIN_BUDGET_MS);
    if (this.queue.length) this.next();
  }

  // One decoded message from the server (also the entry point the map benchmark feeds).
  handle(message) {
    this.messages++;
    if (message.type === "tracks") this.handlers.onTracks(message);
    else if (message.type === "alert") this.handlers.onAlert(message.event);
    else if (message.type === "alert_withdrawn") this.handlers.onAlertWithdrawn(message.alert);
    else if (message.type === "hello") this.handlers.onHello(message);
    else if (message.type === "error") console.warn("stream:", message.error);
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close();
    this.socket = null;
  }
}
