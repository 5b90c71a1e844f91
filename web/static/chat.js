// Schulhof chat: one WebSocket, rooms on the left, messages on the right.
// Every text from the server is shown with textContent, never as HTML.
"use strict";
(function () {
  var root = document.getElementById("chat");
  if (!root) return;
  var T = JSON.parse(root.dataset.texts);
  var me = root.dataset.me;
  var pendingDM = root.dataset.dm || "";
  var $ = function (id) { return document.getElementById(id); };
  var rooms = {};      // id → {info, msgs: {seq: msg}, rev, loaded, more, oldest}
  var order = [];
  var current = "";
  var ws = null, backoff = 500, ended = false, refs = 0, pending = {};

  function state(s, text) {
    document.body.dataset.chat = s;
    $("status").textContent = text;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function send(o, done) {
    if (!ws || ws.readyState !== 1) return false;
    if (done) { o.ref = String(++refs); pending[o.ref] = done; }
    ws.send(JSON.stringify(o));
    return true;
  }

  function room(id) {
    if (!rooms[id]) rooms[id] = { info: { id: id, name: id, kind: "group", unread: 0 }, msgs: {}, rev: 0, loaded: false, more: false, oldest: 0 };
    return rooms[id];
  }

  function connect() {
    state("connecting", T.chat_connecting);
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/chat/ws");
    ws.onopen = function () { backoff = 500; state("open", ""); };
    ws.onmessage = function (ev) { receive(JSON.parse(ev.data)); };
    ws.onclose = function (ev) {
      ws = null;
      if (ev.code === 1008) { ended = true; state("ended", T.chat_ended); $("composer").hidden = true; return; }
      if (ev.code === 1009) showError(T.chat_frame);
      if (ended) return;
      state("offline", T.chat_offline);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 8000);
    };
  }

  function receive(m) {
    if (m.t === "batch") { (m.items || []).forEach(receive); return; }
    var done = m.ref && pending[m.ref];
    if (done) delete pending[m.ref];
    switch (m.t) {
      case "rooms": gotRooms(m.rooms || []); break;
      case "msg": gotMessages(m.room, [m.msg], false, true); break;
      case "msgs": gotMessages(m.room, m.msgs || [], m.hist, false, m.more); break;
      case "found": showResults(m.hits || []); break;
      case "reports":
        ["report-count", "report-count-start"].forEach(function (id) { var b = $(id); if (b) b.textContent = m.open; });
        break;
      case "err": showError("[" + (m.rule || "") + "] " + m.reason); if (done) done(m); break;
      case "ack": if (done) done(m); break;
    }
  }

  function gotRooms(list) {
    var seen = {};
    order = [];
    list.forEach(function (info) {
      var r = room(info.id);
      r.info = info;
      seen[info.id] = true;
      order.push(info.id);
      if (r.loaded) send({ t: "sync", room: info.id, after: r.rev });
    });
    Object.keys(rooms).forEach(function (id) { if (!seen[id]) delete rooms[id]; });
    if (current && !rooms[current]) { current = ""; renderRoom(); }
    renderRooms();
    if (pendingDM) {
      var to = pendingDM; pendingDM = "";
      send({ t: "dm", to: to }, function (a) { if (a.t === "ack") open(a.room); });
    } else if (!current && order.length) {
      open(order[0]);
    } else if (current && !rooms[current].loaded) {
      open(current);
    }
  }

  function gotMessages(id, msgs, hist, live, more) {
    var r = rooms[id];
    if (!r) return;
    var fresh = 0;
    msgs.forEach(function (m) {
      var known = r.msgs[m.seq];
      if (!known && live && m.author !== me && !m.deleted) fresh++;
      if (!known || known.rev <= m.rev) r.msgs[m.seq] = m;
      if (m.rev > r.rev) r.rev = m.rev;
      if (!r.oldest || m.seq < r.oldest) r.oldest = m.seq;
    });
    if (hist) { r.loaded = true; r.more = !!more; }
    if (fresh) {
      if (id !== current || document.hidden) { r.info.unread = (r.info.unread || 0) + fresh; renderRooms(); }
      if (document.hidden) notify(r, msgs[msgs.length - 1]);
    }
    if (id === current) { renderMessages(); markRead(); }
  }

  function markRead() {
    var r = rooms[current];
    if (!r || document.hidden) return;
    var max = 0;
    Object.keys(r.msgs).forEach(function (s) { max = Math.max(max, +s); });
    if (max) send({ t: "read", room: current, seq: max });
    if (r.info.unread) { r.info.unread = 0; renderRooms(); }
  }

  function renderRooms() {
    var ul = $("room-list");
    ul.replaceChildren();
    order.forEach(function (id) {
      var r = rooms[id];
      var b = el("button");
      b.type = "button";
      b.dataset.room = id;
      if (id === current) b.setAttribute("aria-current", "true");
      var name = el("span", "", r.info.name);
      if (r.info.kind === "direct") name.appendChild(el("span", "kind", " · " + T.chat_direct));
      b.appendChild(name);
      if (r.info.unread) b.appendChild(el("span", "badge", String(r.info.unread)));
      b.addEventListener("click", function () { open(id); });
      var li = el("li");
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  function open(id) {
    if (!rooms[id]) return;
    current = id;
    $("results").hidden = true;
    renderRooms();
    renderRoom();
    var r = rooms[id];
    if (!r.loaded) send({ t: "hist", room: id, before: 0 });
    else markRead();
  }

  function renderRoom() {
    var r = rooms[current];
    $("room-title").textContent = r ? r.info.name : "";
    $("composer").hidden = !r || ended;
    renderMessages();
    if (r) $("text").focus();
  }

  function renderMessages() {
    var ol = $("messages");
    var r = rooms[current];
    var atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
    ol.replaceChildren();
    $("older").hidden = !(r && r.more);
    if (!r) { ol.appendChild(el("li", "hint", T.chat_pick)); return; }
    var seqs = Object.keys(r.msgs).map(Number).sort(function (a, b) { return a - b; });
    seqs.forEach(function (s) { ol.appendChild(renderMessage(r, r.msgs[s])); });
    if (atBottom || seqs.length < 60) ol.scrollTop = ol.scrollHeight;
  }

  function renderMessage(r, m) {
    var li = el("li", "msg" + (m.author === me ? " mine" : ""));
    li.dataset.seq = m.seq;
    var who = el("span", "who" + (m.color ? " c" + m.color.slice(1) : ""), m.name);
    li.appendChild(who);
    var t = el("time", "", new Date(m.time).toLocaleString(document.documentElement.lang || [], { dateStyle: "short", timeStyle: "short" }));
    li.appendChild(t);
    if (!m.deleted) {
      var acts = el("span", "acts");
      if (m.author === me) {
        acts.appendChild(button(T.chat_edit, function () {
          var text = prompt(T.chat_edit, m.text);
          if (text !== null && text !== m.text) send({ t: "edit", room: r.info.id, seq: m.seq, text: text }, function () {});
        }));
      }
      if (m.author === me || r.info.teacher) {
        acts.appendChild(button(T.chat_delete, function () {
          if (confirm(T.chat_confirm_delete)) send({ t: "del", room: r.info.id, seq: m.seq }, function () {});
        }));
      }
      if (m.author !== me) {
        acts.appendChild(button(T.chat_report, function () {
          var reason = prompt(T.chat_report_reason, "");
          if (reason === null) return;
          send({ t: "report", room: r.info.id, seq: m.seq, text: reason }, function (a) {
            if (a.t === "ack") showInfo(T.chat_reported);
          });
        }, "report"));
      }
      li.appendChild(acts);
    }
    var p = el("p", "text" + (m.deleted ? " tomb" : ""), m.deleted ? T.chat_deleted : m.text);
    if (m.edited && !m.deleted) p.appendChild(el("small", "", " (" + T.chat_edited + ")"));
    li.appendChild(p);
    return li;
  }

  function button(label, fn, cls) {
    var b = el("button", cls || "", label);
    b.type = "button";
    b.addEventListener("click", fn);
    return b;
  }

  function showError(text) {
    var e = $("chat-error");
    e.className = "err";
    e.textContent = text;
    e.hidden = false;
  }
  function showInfo(text) {
    var e = $("chat-error");
    e.className = "ok";
    e.textContent = text;
    e.hidden = false;
  }

  function showResults(hits) {
    var box = $("results");
    box.replaceChildren(el("h2", "", T.chat_results + ": " + hits.length));
    hits.forEach(function (h) {
      var b = el("button", "hit");
      b.type = "button";
      b.appendChild(el("strong", "", h.room_name + " – " + h.msg.name + ": "));
      b.appendChild(el("span", "", h.msg.text));
      var ctx = el("div", "hitctx");
      if (h.before) ctx.appendChild(el("div", "", "↑ " + h.before.name + ": " + (h.before.text || "")));
      if (h.after) ctx.appendChild(el("div", "", "↓ " + h.after.name + ": " + (h.after.text || "")));
      b.appendChild(ctx);
      b.addEventListener("click", function () { open(h.room); });
      box.appendChild(b);
    });
    box.hidden = false;
  }

  function notify(r, m) {
    if (!("Notification" in window) || Notification.permission !== "granted" || !m) return;
    try { new Notification(T.chat_new + " – " + r.info.name, { body: m.name + ": " + (m.text || "") }); } catch (e) {}
  }

  $("composer").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var ta = $("text");
    var text = ta.value;
    if (!text.trim() || !current) return;
    $("chat-error").hidden = true;
    send({ t: "send", room: current, text: text }, function (a) { if (a.t === "ack") ta.value = ""; });
  });
  $("text").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("composer").requestSubmit(); }
  });
  $("older").addEventListener("click", function () {
    var r = rooms[current];
    if (r) send({ t: "hist", room: current, before: r.oldest });
  });
  $("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    send({ t: "search", text: $("search").value });
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) markRead(); });
  var nb = $("notify");
  if ("Notification" in window && Notification.permission === "default") {
    nb.hidden = false;
    nb.addEventListener("click", function () { Notification.requestPermission().then(function () { nb.hidden = true; }); });
  }
  connect();
})();
