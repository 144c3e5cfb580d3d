// The lab page: draws what the server computes and sends the user's clicks back.
// No training happens here: every number comes from the zdravkograd engine in the server.
"use strict";
window.__errors = [];
window.addEventListener("error", (e) => { window.__errors.push(String(e.message)); });
window.addEventListener("unhandledrejection", (e) => {
  window.__errors.push("unhandled rejection: " + String(e.reason));
});

(function () {
  const $ = (id) => document.getElementById(id);
  const CLASS_RGB = [[247, 103, 7], [28, 126, 214], [47, 158, 68]];
  const POS = [247, 103, 7], NEG = [28, 126, 214];
  const HIT = 7;  // a click within HIT pixels of a point is on the point

  let ws = null, hello = null, state = null, frame = null, playing = false;
  let history = [];  // [step, loss, accuracy]
  let selected = null, frameTimes = [];
  let selectedPoint = null;  // [x, y, class] of the selected point: indices shift on removal

  // ------------------------------------------------------------------ messages
  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/ws");
    ws.addEventListener("message", (e) => {
      const m = JSON.parse(e.data);
      if (m.type === "hello") onHello(m);
      else if (m.type === "state") onState(m);
      else if (m.type === "frame") onFrame(m);
      else if (m.type === "paused") setPlaying(false);
      else if (m.type === "playing") setPlaying(true);
      else if (m.type === "error") showError(m.message);
      else if (m.type === "backprop") onBackprop(m);
    });
    ws.addEventListener("close", () => {
      setPlaying(false);
      showError("The connection to the lab's server is closed. Is `zdravkograd lab` still " +
                "running? Reload the page to reconnect.");
    });
  }

  function showError(text) {
    const box = $("error");
    box.textContent = text;
    box.hidden = false;
  }
  function clearError() { $("error").hidden = true; $("error").textContent = ""; }

  function setPlaying(on) {
    playing = on;
    $("play").disabled = on;
    $("pause").disabled = !on;
  }

  // ------------------------------------------------------------------ settings
  function onHello(m) {
    hello = m;
    const ds = $("dataset");
    ds.replaceChildren();
    for (const [name, classes] of Object.entries(m.datasets)) {
      const o = document.createElement("option");
      o.value = name; o.textContent = classes > 2 ? name + " (" + classes + " classes)" : name;
      ds.append(o);
    }
    const L = m.limits;
    $("samples").max = L.points;
    $("limits").textContent = "Limits: " + L.points + " points, " + L.width +
      " neurons per layer, " + L.layers + " hidden layers.";
    const box = $("mistakes");
    box.replaceChildren();
    for (const mk of m.mistakes) {
      const b = document.createElement("button");
      b.id = "mistake-" + mk.id; b.textContent = mk.title; b.className = "mistake";
      const p = document.createElement("p");
      p.className = "watch"; p.id = "watch-" + mk.id; p.textContent = mk.watch;
      b.addEventListener("click", () => {
        for (const w of box.querySelectorAll(".watch")) w.classList.remove("active");
        p.classList.add("active");
        clearError();
        send({ type: "mistake", id: mk.id });
      });
      box.append(b, p);
    }
  }

  function showSettings(s) {
    $("dataset").value = s.dataset;
    $("samples").value = s.samples;
    $("noise").value = s.noise;
    $("seed").value = s.seed;
    $("hidden").value = s.hidden.join(", ");
    $("activation").value = s.activation;
    $("init-scale").value = s.init_scale;
    $("optimizer").value = s.optimizer;
    $("lr").value = s.lr;
    $("mode").value = s.mode;
    $("zero-grad").checked = s.zero_grad;
  }

  function number(id) {
    const text = $(id).value.trim();
    return text === "" || isNaN(Number(text)) ? text : Number(text);
  }

  function readSettings() {
    const hidden = $("hidden").value.split(/[\s,]+/).filter((t) => t !== "")
      .map((t) => (isNaN(Number(t)) ? t : Number(t)));
    return {
      dataset: $("dataset").value, samples: number("samples"), noise: number("noise"),
      seed: number("seed"), hidden: hidden, activation: $("activation").value,
      init_scale: number("init-scale"), optimizer: $("optimizer").value, lr: number("lr"),
      mode: $("mode").value, zero_grad: $("zero-grad").checked,
    };
  }

  for (const id of ["dataset", "samples", "noise", "seed", "hidden", "activation", "init-scale",
                    "optimizer", "lr", "mode", "zero-grad"]) {
    $(id).addEventListener("change", () => {
      clearError();
      send({ type: "config", settings: readSettings() });
    });
  }

  // ------------------------------------------------------------------ state and frames
  function onState(m) {
    state = m;
    history = m.history.slice();
    showSettings(m.settings);
    const pc = $("point-class"), keep = pc.value;
    pc.replaceChildren();
    for (let c = 0; c < m.classes; c++) {
      const o = document.createElement("option");
      o.value = String(c); o.textContent = String(c);
      const rgb = CLASS_RGB[c];
      o.style.color = "rgb(" + rgb.join(",") + ")";
      pc.append(o);
    }
    if (keep !== "" && Number(keep) < m.classes) pc.value = keep;
    if (selectedPoint !== null) {  // follow the selected point to its index in the new data
      const [sx, sy, sc] = selectedPoint;
      const i = m.points.findIndex(([x, y, c]) => x === sx && y === sy && c === sc);
      selected = i >= 0 ? i : null;
      if (selected === null) selectedPoint = null;
    }
    if (m.diverged) showError(m.diverged);
  }

  function onFrame(m) {
    frame = m;
    for (const h of m.steps) history.push(h);
    if (history.length > 5000) history.splice(0, history.length - 5000);
    $("step-count").textContent = String(m.step);
    $("loss").textContent = Number(m.loss).toFixed(4);
    $("accuracy").textContent = (100 * m.accuracy).toFixed(1) + "%";
    const now = performance.now();
    frameTimes.push(now);
    while (frameTimes.length && frameTimes[0] < now - 2000) frameTimes.shift();
    $("fps").textContent = playing && frameTimes.length > 2
      ? (1000 * (frameTimes.length - 1) / (now - frameTimes[0])).toFixed(1) + " frames/s" : "";
    drawBoundary();
    drawCurves();
    drawNetwork();
  }

  function bytes(b64) {
    const s = atob(b64), a = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
    return a;
  }

  // ------------------------------------------------------------------ the plot
  const plot = $("boundary"), pctx = plot.getContext("2d");
  const grid = document.createElement("canvas"), gctx = grid.getContext("2d");

  function toPixel(x, y) {
    const [lo, hi] = state.domain;
    return [(x - lo) / (hi - lo) * plot.width, (hi - y) / (hi - lo) * plot.height];
  }
  function toData(px, py) {
    const [lo, hi] = state.domain;
    return [lo + px / plot.width * (hi - lo), hi - py / plot.height * (hi - lo)];
  }

  function drawBoundary() {
    if (!state || !frame) return;
    const n = frame.grid, probs = bytes(frame.boundary), C = state.classes;
    grid.width = n; grid.height = n;
    const img = gctx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      let r = 0, g = 0, b = 0;
      for (let c = 0; c < C; c++) {
        const p = probs[c * n * n + i] / 255, rgb = CLASS_RGB[c];
        r += p * rgb[0]; g += p * rgb[1]; b += p * rgb[2];
      }
      img.data[4 * i] = 0.45 * r + 0.55 * 255;  // a light wash of the winning class
      img.data[4 * i + 1] = 0.45 * g + 0.55 * 255;
      img.data[4 * i + 2] = 0.45 * b + 0.55 * 255;
      img.data[4 * i + 3] = 255;
    }
    gctx.putImageData(img, 0, 0);
    pctx.imageSmoothingEnabled = true;
    pctx.drawImage(grid, 0, 0, plot.width, plot.height);
    state.points.forEach(([x, y, c, added], i) => {
      const [px, py] = toPixel(x, y);
      pctx.beginPath();
      pctx.arc(px, py, i === selected ? 6.5 : 4.5, 0, 2 * Math.PI);
      pctx.fillStyle = "rgb(" + CLASS_RGB[c].join(",") + ")";
      pctx.fill();
      pctx.lineWidth = i === selected ? 3 : added ? 2 : 1;
      pctx.strokeStyle = i === selected ? "#000" : added ? "#212529" : "#fff";
      pctx.stroke();
    });
  }

  function pointAt(px, py) {
    let best = null, bestD = HIT;
    state.points.forEach(([x, y], i) => {
      const [qx, qy] = toPixel(x, y), d = Math.hypot(qx - px, qy - py);
      if (d <= bestD) { best = i; bestD = d; }
    });
    return best;
  }

  plot.addEventListener("click", (e) => {
    if (!state) return;
    const r = plot.getBoundingClientRect();
    const px = (e.clientX - r.left) * plot.width / r.width;
    const py = (e.clientY - r.top) * plot.height / r.height;
    const hit = pointAt(px, py);
    clearError();
    if ($("tool-inspect").checked) {
      if (hit === null) { showError("Click on a data point to see its backward pass."); return; }
      selected = hit;
      selectedPoint = state.points[hit].slice(0, 3);
      drawBoundary();
      $("viewer-summary").textContent = "Computing the backward pass of point " + hit + "…";
      send({ type: "backprop", index: hit });
    } else if (hit !== null) {
      send({ type: "remove_point", index: hit });
    } else {
      const [x, y] = toData(px, py);
      send({ type: "add_point", x: x, y: y, label: Number($("point-class").value) });
    }
  });

  // ------------------------------------------------------------------ the curves
  function drawCurves() {
    const cv = $("curves"), c = cv.getContext("2d"), W = cv.width, H = cv.height, pad = 6;
    c.clearRect(0, 0, W, H);
    c.fillStyle = "#fff"; c.fillRect(0, 0, W, H);
    if (history.length < 1) return;
    let top = 0;
    for (const h of history) if (isFinite(h[1])) top = Math.max(top, h[1]);
    top = top || 1;
    const n = history.length, stride = Math.max(1, Math.floor(n / W));
    const xAt = (i) => pad + (W - 2 * pad) * (n === 1 ? 0 : i / (n - 1));
    const line = (color, yOf) => {
      c.beginPath(); c.strokeStyle = color; c.lineWidth = 1.5;
      for (let i = 0; i < n; i += stride) {
        const y = pad + (H - 2 * pad) * (1 - yOf(history[i]));
        if (i === 0) c.moveTo(xAt(i), y); else c.lineTo(xAt(i), y);
      }
      c.stroke();
    };
    line("#2f9e44", (h) => h[2]);
    line("#c92a2a", (h) => Math.min(1, h[1] / top));
    c.fillStyle = "#6c757d"; c.font = "11px system-ui, sans-serif";
    c.fillText("loss max " + top.toPrecision(3) + ", steps " + history[0][0] + "–" +
               history[n - 1][0], pad + 2, H - pad - 2);
  }

  // ------------------------------------------------------------------ the network
  function mix(rgb, t) {  // white (t = 0) to rgb (t = 1)
    return [0, 1, 2].map((k) => Math.round(255 + (rgb[k] - 255) * t));
  }

  function drawNetwork() {
    if (!state || !frame) return;
    const cv = $("network"), layers = state.layers;
    const widest = Math.max(...layers);
    const s = widest <= 8 ? 40 : widest <= 16 ? 24 : widest <= 32 ? 14 : 8;
    const gap = Math.max(4, Math.round(s / 4));
    const H = Math.max(240, widest * (s + gap) + 30);
    if (cv.height !== H) cv.height = H;
    const c = cv.getContext("2d"), W = cv.width;
    c.clearRect(0, 0, W, H);
    const colX = (l) => 20 + s / 2 + (W - 40 - s) * l / (layers.length - 1);
    const rowY = (l, j) => H / 2 + (j - (layers[l] - 1) / 2) * (s + gap);
    const weights = frame.weights.map((b64) => new Float32Array(bytes(b64).buffer));
    let maxW = 1e-9;
    for (const w of weights) for (const v of w) maxW = Math.max(maxW, Math.abs(v));
    // the weights: layer l's neuron j reads every node i of layer l (bias last in each row)
    for (let l = 0; l < weights.length; l++) {
      const nin = layers[l], nout = layers[l + 1], w = weights[l];
      for (let j = 0; j < nout; j++) {
        for (let i = 0; i < nin; i++) {
          const v = w[j * (nin + 1) + i], t = Math.abs(v) / maxW;
          const rgb = v >= 0 ? POS : NEG;
          c.strokeStyle = "rgba(" + rgb.join(",") + "," + (0.12 + 0.78 * t).toFixed(3) + ")";
          c.lineWidth = 0.4 + 3.6 * t;
          c.beginPath();
          c.moveTo(colX(l) + s / 2, rowY(l, i));
          c.lineTo(colX(l + 1) - s / 2, rowY(l + 1, j));
          c.stroke();
        }
      }
    }
    // the nodes: inputs, hidden neurons (their own output over the plane), outputs
    const ng = frame.neuronGrid, pic = document.createElement("canvas");
    pic.width = ng; pic.height = ng;
    const picCtx = pic.getContext("2d");
    c.imageSmoothingEnabled = false;
    for (let l = 0; l < layers.length; l++) {
      const hiddenIdx = l - 1, isHidden = l > 0 && l < layers.length - 1;
      const values = isHidden ? new Int8Array(bytes(frame.neurons[hiddenIdx]).buffer) : null;
      for (let j = 0; j < layers[l]; j++) {
        const x = colX(l) - s / 2, y = rowY(l, j) - s / 2;
        if (isHidden) {
          const img = picCtx.createImageData(ng, ng);
          for (let k = 0; k < ng * ng; k++) {
            const v = values[j * ng * ng + k] / 127, rgb = mix(v >= 0 ? POS : NEG, Math.abs(v));
            img.data[4 * k] = rgb[0]; img.data[4 * k + 1] = rgb[1];
            img.data[4 * k + 2] = rgb[2]; img.data[4 * k + 3] = 255;
          }
          picCtx.putImageData(img, 0, 0);
          c.drawImage(pic, x, y, s, s);
          const bias = weights[l - 1][j * (layers[l - 1] + 1) + layers[l - 1]];
          c.strokeStyle = bias >= 0 ? "rgb(" + POS.join(",") + ")" : "rgb(" + NEG.join(",") + ")";
          c.lineWidth = 1.5;
          c.strokeRect(x, y, s, s);
        } else {
          c.fillStyle = "#f1f3f5"; c.strokeStyle = "#868e96"; c.lineWidth = 1;
          c.fillRect(x, y, s, s); c.strokeRect(x, y, s, s);
          c.fillStyle = "#212529"; c.font = Math.max(8, Math.min(13, s / 2.4)) + "px system-ui";
          c.textAlign = "center"; c.textBaseline = "middle";
          const name = l === 0 ? "x" + (j + 1) : (layers[l] === 1 ? "s" : "s" + j);
          c.fillText(name, x + s / 2, y + s / 2);
        }
      }
    }
  }

  // ------------------------------------------------------------------ the viewer
  function onBackprop(m) {
    selected = m.index;
    selectedPoint = [m.point[0], m.point[1], m.label];
    drawBoundary();
    const frameEl = $("viewer-frame");
    frameEl.hidden = false;
    frameEl.src = m.url;
    $("viewer").dataset.index = String(m.index);
    $("viewer-title").textContent = "Backprop of point " + m.index + " (class " + m.label +
      ") at step " + m.step;
    $("viewer-summary").textContent = "Its loss is " + Number(m.loss).toFixed(6) + ". Press " +
      "Next (or →) in the viewer to follow the chain rule from the loss back to every weight.";
    $("viewer").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  // ------------------------------------------------------------------ buttons
  $("play").addEventListener("click", () => { clearError(); setPlaying(true); send({ type: "play" }); });
  $("pause").addEventListener("click", () => { setPlaying(false); send({ type: "pause" }); });
  $("step").addEventListener("click", () => { clearError(); send({ type: "step" }); });
  $("reset").addEventListener("click", () => { clearError(); send({ type: "reset" }); });

  setPlaying(false);
  connect();
})();
