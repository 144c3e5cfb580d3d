"use strict";
window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); });
(function () {
  const D = JSON.parse(document.getElementById("trace-data").textContent);
  const steps = D.steps, N = steps.length;
  const $ = (id) => document.getElementById(id);
  const svgNode = (id) => document.getElementById("val" + id);
  const opNode = (id) => document.getElementById("op" + id);
  let k = 0, timer = null;
  const box0 = $("graph").viewBox.baseVal;
  if (box0 && box0.height > 0 && box0.width / box0.height > 3.2) {
    document.body.classList.add("wide");
  }

  // the grad text of every record in the SVG, and one table row per node
  const gradText = {};
  for (const n of D.nodes) {
    const g = svgNode(n.id);
    if (g) {
      for (const t of g.querySelectorAll("text")) {
        if (t.textContent.startsWith("grad ")) { gradText[n.id] = t; }
      }
    }
  }
  const rows = {};
  const tbody = $("grads");
  // the drawn nodes, output first, then the weights folded into neurons (if any)
  const ordered = D.nodes.filter((n) => !n.param).reverse()
    .concat(D.nodes.filter((n) => n.param));
  for (const n of ordered) {
    const tr = document.createElement("tr");
    tr.dataset.node = n.id;
    if (n.param) tr.className = "param";
    const name = document.createElement("td");
    name.textContent = n.name + (n.op ? "  (" + n.opText + ")" : "");
    const data = document.createElement("td");
    data.className = "num"; data.textContent = n.data;
    const grad = document.createElement("td");
    grad.className = "num grad"; grad.dataset.node = n.id;
    tr.append(name, data, grad);
    tbody.append(tr);
    rows[n.id] = tr;
  }

  function state(upto) {  // gradients after applying steps[0 .. upto-1]
    const grads = {}, passed = new Set();
    for (let i = 0; i < upto; i++) {
      const s = steps[i];
      if (s.kind === "node") passed.add(s.node);
      for (const u of s.updates) grads[u.to] = u.grad;
    }
    return { grads, passed };
  }

  function render() {
    const { grads, passed } = state(k);
    const cur = k > 0 ? steps[k - 1] : null;
    const receiving = new Set(cur && cur.kind === "node" ? cur.updates.map((u) => u.to) : []);
    for (const n of D.nodes) {
      const g = svgNode(n.id), op = opNode(n.id), t = gradText[n.id], gr = grads[n.id];
      const isCur = cur !== null && cur.node === n.id;
      if (g) {
        g.classList.toggle("known", gr !== undefined);
        g.classList.toggle("done", passed.has(n.id) || (n.leaf && gr !== undefined));
        g.classList.toggle("current", isCur);
        g.classList.toggle("receive", receiving.has(n.id) && !isCur);
      }
      if (op) op.classList.toggle("current", isCur && cur.kind === "node");
      if (t) {
        t.textContent = gr === undefined ? "grad  ·" : "grad " + gr.four;
        t.classList.toggle("grad-unknown", gr === undefined);
        t.classList.toggle("grad-new", receiving.has(n.id) || (isCur && cur.kind === "seed"));
      }
      const cell = rows[n.id].querySelector("td.grad");
      cell.textContent = gr === undefined ? "·" : gr.short;
      cell.classList.toggle("unknown", gr === undefined);
      if (gr === undefined) { delete cell.dataset.exact; } else { cell.dataset.exact = gr.exact; }
      rows[n.id].classList.toggle("current", isCur);
      rows[n.id].classList.toggle("receive", receiving.has(n.id) && !isCur);
    }
    for (const e of document.querySelectorAll("#graph g.edge.active")) {
      e.classList.remove("active");
    }
    if (cur) {
      for (const id of cur.edges) {
        const e = document.getElementById(id);
        if (e) e.classList.add("active");
      }
    }
    // the explanation panel
    const box = $("updates");
    box.replaceChildren();
    if (cur === null) {
      $("step-title").textContent = "Ready";
      $("step-text").textContent = "Forward pass done: every node has its data. Its gradient " +
        "(·) is unknown until the backward pass reaches it. Press Next.";
    } else {
      $("step-title").textContent = "Step " + k + ": " + cur.title;
      $("step-text").textContent = cur.text;
      for (const u of cur.updates) {
        if (!u.formula) continue;
        const div = document.createElement("div");
        div.className = "update";
        div.textContent = u.formula;
        if (u.accumulate) {
          const acc = document.createElement("span");
          acc.className = "acc"; acc.textContent = u.accumulate;
          div.append(acc);
        }
        box.append(div);
      }
      if (k === N) {
        const div = document.createElement("div");
        div.className = "update";
        div.style.background = "#e7f5ff"; div.style.borderColor = "#1c7ed6";
        div.textContent = "Done: every gradient is known. Leaves have no operands, so " +
          "they pass nothing on.";
        box.append(div);
      }
    }
    $("counter").textContent = "step " + k + " of " + N;
    $("bar").style.width = (100 * k / N) + "%";
    $("back").disabled = k === 0; $("reset").disabled = k === 0;
    $("next").disabled = k === N;
    $("play").textContent = timer ? "⏸ Pause" : "▶ Play";
    $("play").disabled = k === N && !timer;
    if (cur) {
      const g = svgNode(cur.node);
      if (g) reveal($("graph-card"), g, 0);
      const card = $("table-card");
      reveal(card, rows[cur.node], card.querySelector("thead").offsetHeight);
    }
  }

  // Scroll `box` (not the page: the buttons must stay where they are) until `el` shows;
  // `inset` is how much of the box's top a sticky header covers.
  function reveal(box, el, inset) {
    const b = box.getBoundingClientRect(), r = el.getBoundingClientRect();
    if (r.top < b.top + inset) box.scrollTop -= b.top + inset - r.top + 4;
    else if (r.bottom > b.bottom) box.scrollTop += r.bottom - b.bottom + 4;
    if (r.left < b.left) box.scrollLeft -= b.left - r.left + 4;
    else if (r.right > b.right) box.scrollLeft += r.right - b.right + 4;
  }

  function go(to) { k = Math.max(0, Math.min(N, to)); if (k === N) stop(); render(); }
  function stop() { if (timer) { clearInterval(timer); timer = null; } }
  function play() {
    if (timer) { stop(); render(); return; }
    if (k === N) k = 0;
    timer = setInterval(() => go(k + 1), Number($("speed").value));
    go(k + 1);
  }
  $("next").addEventListener("click", () => { stop(); go(k + 1); });
  $("back").addEventListener("click", () => { stop(); go(k - 1); });
  $("reset").addEventListener("click", () => { stop(); go(0); });
  $("play").addEventListener("click", play);
  $("speed").addEventListener("change", () => { if (timer) { stop(); play(); } });
  $("zoom").addEventListener("change", (e) => {
    const svg = $("graph"), z = e.target.value;
    svg.classList.toggle("natural", z !== "fit");
    svg.style.width = z === "fit" ? "" : (parseFloat(svg.dataset.width) * Number(z)) + "pt";
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "SELECT") return;
    if (e.key === "ArrowRight") { stop(); go(k + 1); }
    else if (e.key === "ArrowLeft") { stop(); go(k - 1); }
    else if (e.key === " ") { play(); }
    else if (e.key === "Home") { stop(); go(0); }
    else return;
    e.preventDefault();
  });
  render();
})();
