/*
 * 童心守护 chat widget. Embed with one tag:
 *   <script src="https://host/static/widget.js" data-endpoint="https://host" data-title="童心守护" data-open="true"></script>
 *
 * Talks to the gateway over a WebSocket (/ws) and falls back to POST /api/chat plus polling
 * GET /api/history?since= when sockets are blocked. Every message carries a client_id; a retry resends
 * the same one, so the server never answers a message twice.
 *
 * Safety: nothing received from the server or typed by a user is ever parsed as HTML. All message text
 * goes through textContent / createTextNode; this file does not use innerHTML at all.
 */
(function () {
  "use strict";

  // ---- The widget's words (keep them short and warm) -----------------------------------------
  var T = {
    subtitle: "儿童关爱政策助手",
    launcher: "咨询童心守护",
    collapse: "收起",
    collapseLabel: "收起聊天窗口",
    elder: "长辈模式",
    elderLabel: "长辈模式：字更大、更清楚",
    logLabel: "聊天记录",
    inputLabel: "输入您的问题",
    placeholder: "请输入您想问的事…",
    send: "发送",
    human: "转人工",
    humanLabel: "转人工：请工作人员帮您",
    who: { user: "您说", bot: "助手说", staff: "工作人员说", system: "系统消息" },
    staffBadge: "工作人员",
    typing: "助手正在回复…",
    quickLabel: "可以直接点选",
    sources: "政策依据",
    sourceMore: "详情",
    sourceLess: "收起",
    docNo: "文号",
    issuer: "发文机关",
    issued: "发布日期",
    chosen: "（已点选）",
    noticeTitle: "欢迎使用童心守护",
    noticeWhat: "我是民政部门的儿童关爱政策助手，可以解答留守儿童、困境儿童等政策问题。",
    noticeEmergency: "我不是紧急求助电话。孩子有危险，请立即拨打110。",
    noticePrivacy: "聊天记录只用于解答您的问题和工作人员跟进。",
    noticeClose: "我知道了",
    counter: function (n, max) { return n + "/" + max; },
    tooLong: function (max) { return "字有点多啦（最多" + max + "字）。请分几次发，或者先说最要紧的事。"; },
    tooLongServer: "这条消息太长了，请分几次发，或者先说最要紧的事。",
    invalid: "这条消息没能发出去，请换个说法再试试。",
    offline: "网络好像不太好，正在重新连接…",
    unreachable: "抱歉，暂时连不上服务器，您的消息还没发出去。请稍后点“重新发送”。孩子有危险请立即拨打110。",
    historyFailed: "抱歉，暂时连不上服务器，之前的聊天记录没能打开。请稍后再试。孩子有危险请立即拨打110。",
    resend: "重新发送",
    queue: function (n) { return "正在为您转接工作人员，您排在第" + n + "位，请稍等。"; },
    waiting: "正在为您转接工作人员，请稍等。",
    active: "工作人员已接入，正在为您服务。",
    backToBot: "回到机器人",
    greeting: "您好！有什么想问的，直接打字告诉我；也可以点下面的“转人工”。"
  };
  var PAYLOAD_TITLES = { "/request_human": T.human, "/tx_back_to_bot": T.backToBot };
  // Emergency and hotline numbers become tap-to-call links; "120元", "第110条" stay plain text.
  var PHONES = /(^|[^0-9第.．])(110|120|119|12345|12355|12338|12349)(?![0-9元万千百天个岁周月年人号条款项次%％])/g;

  // ---- Where we are -----------------------------------------------------------------------
  if (window.__txWidget) return;
  window.__txWidget = true;
  var script = document.currentScript || (function () {
    var all = document.querySelectorAll("script[src*='widget.js']");
    return all[all.length - 1];
  })();
  var scriptUrl = new URL(script.src, location.href);
  var ENDPOINT = (script.getAttribute("data-endpoint") || scriptUrl.origin).replace(/\/+$/, "");
  var TITLE = script.getAttribute("data-title") || "童心守护";
  var START_OPEN = script.getAttribute("data-open") === "true";
  var MAX_CHARS = 2000;
  var KEY = { sender: "txw-sender", token: "txw-token", elder: "txw-elder", notice: "txw-notice-seen" };

  var memory = {};
  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return memory[key] || null; }
  }
  function save(key, value) {
    memory[key] = value;
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: this visit only */ }
  }
  function randomId(prefix, bytes) {
    var a = new Uint8Array(bytes);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return prefix + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  // The conversation's name (random, on this device) and the gateway's proof that it is ours: the history
  // and the socket need the token, which is only ever sent in a header or the socket's first message.
  var SENDER = load(KEY.sender), TOKEN = load(KEY.token);
  function newConversation() {
    SENDER = randomId("w-", 12);
    TOKEN = null;
    save(KEY.sender, SENDER);
    save(KEY.token, "");
  }
  if (!SENDER || !/^[A-Za-z0-9_.:@-]{16,128}$/.test(SENDER)) newConversation();
  function setToken(token) {
    if (typeof token === "string" && token && token !== TOKEN) {
      TOKEN = token;
      save(KEY.token, token);
    }
  }
  function chars(text) { return Array.from(text).length; }

  // ---- DOM helpers (text only, never markup) ------------------------------------------------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function button(cls, text, onClick) {
    var b = el("button", cls, text);
    b.type = "button";
    if (onClick) b.addEventListener("click", onClick);
    return b;
  }
  /** Message text with the emergency and hotline numbers as tap-to-call links; text nodes only. */
  function appendText(parent, text) {
    var last = 0, m;
    PHONES.lastIndex = 0;
    while ((m = PHONES.exec(text)) !== null) {
      var start = m.index + m[1].length;
      if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
      var a = el("a", "txw-tel", m[2]);
      a.href = "tel:" + m[2];
      parent.appendChild(a);
      last = start + m[2].length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }
  var uid = 0;
  function nextId(name) { uid += 1; return "txw-" + name + "-" + uid; }
  var finePointer = window.matchMedia ? window.matchMedia("(pointer: fine)").matches : true;

  // ---- Build the UI ---------------------------------------------------------------------
  var css = el("link");
  css.rel = "stylesheet";
  css.href = new URL("widget.css", scriptUrl).href;
  document.head.appendChild(css);

  var root = el("div", "txw");
  root.id = "txw-root";
  root.lang = "zh-CN";

  var launcher = button("txw-launcher", T.launcher);
  launcher.setAttribute("aria-controls", "txw-panel");
  launcher.setAttribute("aria-expanded", "false");

  var panel = el("section", "txw-panel");
  panel.id = "txw-panel";
  panel.setAttribute("aria-label", TITLE + " " + T.subtitle);

  var header = el("header", "txw-header");
  var heading = el("div", "txw-heading");
  var titleEl = el("h2", "txw-title", TITLE);
  titleEl.id = "txw-title";
  heading.appendChild(titleEl);
  heading.appendChild(el("p", "txw-subtitle", T.subtitle));
  var elderBtn = button("txw-elder-toggle", T.elder);
  elderBtn.setAttribute("aria-pressed", "false");
  elderBtn.setAttribute("title", T.elderLabel);
  var collapseBtn = button("txw-collapse", T.collapse);
  collapseBtn.setAttribute("aria-label", T.collapseLabel);
  header.appendChild(heading);
  header.appendChild(elderBtn);
  header.appendChild(collapseBtn);

  var conn = el("p", "txw-conn");
  conn.setAttribute("role", "status");
  conn.hidden = true;
  var handoffBar = el("div", "txw-handoff");
  handoffBar.hidden = true;
  var handoffText = el("p", "txw-handoff-text");
  handoffText.setAttribute("role", "status");
  var backBtn = button("txw-back", T.backToBot);
  handoffBar.appendChild(handoffText);
  handoffBar.appendChild(backBtn);

  var scroller = el("div", "txw-scroll");
  var notice = el("div", "txw-notice");
  notice.setAttribute("role", "note");
  notice.setAttribute("aria-labelledby", "txw-notice-title");
  var noticeTitle = el("h3", "txw-notice-title", T.noticeTitle);
  noticeTitle.id = "txw-notice-title";
  notice.appendChild(noticeTitle);
  notice.appendChild(el("p", null, T.noticeWhat));
  var emergency = el("p", "txw-notice-emergency");
  appendText(emergency, T.noticeEmergency);
  notice.appendChild(emergency);
  notice.appendChild(el("p", null, T.noticePrivacy));
  var noticeClose = button("txw-notice-close", T.noticeClose);
  notice.appendChild(noticeClose);
  notice.hidden = load(KEY.notice) === "1";

  var log = el("ol", "txw-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", T.logLabel);
  log.tabIndex = -1;
  var typing = el("div", "txw-typing");
  typing.setAttribute("role", "status");
  var typingDots = el("span", "txw-dots");
  typingDots.setAttribute("aria-hidden", "true");
  typingDots.appendChild(el("span"));
  typingDots.appendChild(el("span"));
  typingDots.appendChild(el("span"));
  typing.appendChild(typingDots);
  var typingText = el("span", "txw-typing-text");
  typing.appendChild(typingText);
  typing.hidden = true;
  scroller.appendChild(notice);
  scroller.appendChild(log);
  scroller.appendChild(typing);

  var form = el("form", "txw-form");
  form.setAttribute("novalidate", "");
  var inputId = nextId("input"), counterId = nextId("counter"), warnId = nextId("warn");
  var label = el("label", "txw-sr", T.inputLabel);
  label.htmlFor = inputId;
  var input = el("textarea", "txw-input");
  input.id = inputId;
  input.rows = 1;
  input.placeholder = T.placeholder;
  input.setAttribute("enterkeyhint", "send");
  input.setAttribute("aria-describedby", counterId + " " + warnId);
  var warn = el("p", "txw-warn");
  warn.id = warnId;
  warn.setAttribute("role", "alert");
  var actions = el("div", "txw-actions");
  var humanBtn = button("txw-human", T.human);
  humanBtn.setAttribute("aria-label", T.humanLabel);
  var counter = el("span", "txw-counter", T.counter(0, MAX_CHARS));
  counter.id = counterId;
  var sendBtn = el("button", "txw-send", T.send);
  sendBtn.type = "submit";
  actions.appendChild(humanBtn);
  actions.appendChild(counter);
  actions.appendChild(sendBtn);
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(warn);
  form.appendChild(actions);

  panel.appendChild(header);
  panel.appendChild(conn);
  panel.appendChild(handoffBar);
  panel.appendChild(scroller);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);

  // ---- Open / close, elder mode, notice ----------------------------------------------------
  function focusComposer() {
    if (finePointer) input.focus(); else log.focus({ preventScroll: true });
  }
  function setOpen(open, moveFocus) {
    root.classList.toggle("txw-open", open);
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    if (!moveFocus) return;
    if (open) { scrollToEnd(); if (!notice.hidden) noticeClose.focus(); else focusComposer(); } else launcher.focus();
  }
  launcher.addEventListener("click", function () { setOpen(true, true); });
  collapseBtn.addEventListener("click", function () { setOpen(false, true); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !START_OPEN) setOpen(false, true);
  });

  function setElder(on) {
    root.classList.toggle("txw-elder", on);
    elderBtn.setAttribute("aria-pressed", String(on));
    save(KEY.elder, on ? "1" : "0");
    updateCounter();
    scrollToEnd();
  }
  elderBtn.addEventListener("click", function () {
    setElder(elderBtn.getAttribute("aria-pressed") !== "true");
  });
  setElder(load(KEY.elder) === "1");

  noticeClose.addEventListener("click", function () {
    notice.hidden = true;
    save(KEY.notice, "1");
    focusComposer();
  });

  // ---- Rendering -----------------------------------------------------------------------
  var activeQuick = null;

  function scrollToEnd() { scroller.scrollTop = scroller.scrollHeight; }
  /** Show the start of a new answer (long policy answers are read from the top). */
  function scrollToShow(item) {
    var prev = item.previousElementSibling, top = item.offsetTop - 8;
    // Keep the question in view too when it is short.
    if (prev && prev.classList.contains("txw-from-user") && prev.offsetHeight < scroller.clientHeight / 4) {
      top = prev.offsetTop - 8;
    }
    scroller.scrollTop = Math.min(top, scroller.scrollHeight);
  }

  function sourceCard(c) {
    var card = el("li", "txw-source");
    var toggle = button("txw-source-toggle");
    var detailsId = nextId("source");
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", detailsId);
    toggle.appendChild(el("span", "txw-source-icon")).setAttribute("aria-hidden", "true");
    var text = el("span", "txw-source-text");
    text.appendChild(el("span", "txw-source-name", "《" + c.title + "》"));
    if (c.doc_no) text.appendChild(el("span", "txw-source-no", c.doc_no));
    toggle.appendChild(text);
    var more = el("span", "txw-source-more", T.sourceMore);
    more.setAttribute("aria-hidden", "true");
    toggle.appendChild(more);
    var details = el("dl", "txw-source-details");
    details.id = detailsId;
    details.hidden = true;
    function row(k, v) {
      if (!v) return;
      details.appendChild(el("dt", null, k));
      details.appendChild(el("dd", null, v));
    }
    row(T.docNo, c.doc_no);
    row(T.issuer, c.issuer);
    row(T.issued, c.issued);
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      details.hidden = !open;
      more.textContent = open ? T.sourceLess : T.sourceMore;
      card.classList.toggle("txw-source-open", open);
    });
    card.appendChild(toggle);
    card.appendChild(details);
    return card;
  }

  function quickReplies(buttons) {
    var group = el("div", "txw-quick");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", T.quickLabel);
    buttons.forEach(function (b) {
      if (!b || !b.title) return;
      if (b.payload === "/tx_back_to_bot") group.setAttribute("data-back", "1");
      PAYLOAD_TITLES[b.payload] = b.title;
      group.appendChild(button("txw-quick-btn", b.title, function () {
        send(b.payload, b.title);
        focusComposer();
      }));
    });
    return group;
  }

  function retireQuick(next) {
    if (activeQuick && activeQuick !== next) {
      activeQuick.classList.add("txw-quick-old");
      Array.prototype.forEach.call(activeQuick.querySelectorAll("button"), function (b) { b.disabled = true; });
    }
    activeQuick = next;
    // The handoff bar's own "回到机器人" is not shown twice.
    backBtn.hidden = !!(activeQuick && activeQuick.getAttribute("data-back"));
  }

  /** One message bubble. m: {from, text, buttons?, citations?, id?}. */
  function render(m) {
    var from = ({ user: 1, bot: 1, staff: 1, system: 1 })[m.from] ? m.from : "bot";
    var item = el("li", "txw-msg txw-from-" + from);
    if (from === "user") retireQuick(null);  // the user moved on: earlier choices are stale
    if (m.id != null) item.setAttribute("data-id", String(m.id));
    if (from === "staff") {
      item.appendChild(el("span", "txw-badge", T.staffBadge));
    } else {
      item.appendChild(el("span", "txw-sr", T.who[from] + "："));
    }
    var bubble = el("div", "txw-bubble");
    appendText(bubble, String(m.text || ""));
    item.appendChild(bubble);
    var citations = m.citations || [];
    if (citations.length) {
      var sources = el("div", "txw-sources");
      sources.appendChild(el("p", "txw-sources-title", T.sources));
      var list = el("ul", "txw-source-list");
      citations.forEach(function (c) { list.appendChild(sourceCard(c)); });
      sources.appendChild(list);
      item.appendChild(sources);
    }
    if (m.buttons && m.buttons.length) {
      var group = quickReplies(m.buttons);
      item.appendChild(group);
      retireQuick(group);
    }
    log.appendChild(item);
    return item;
  }

  function renderUser(display) {
    var item = render({ from: "user", text: display });
    scrollToEnd();
    return item;
  }

  function systemNote(text, extra) {
    var item = render({ from: "system", text: text });
    item.classList.add("txw-local");
    if (extra) item.appendChild(extra);
    scrollToEnd();
    return item;
  }

  function userText(text) {
    if (text.charAt(0) !== "/") return text;
    return PAYLOAD_TITLES[text] || T.chosen;
  }

  var waitingFor = 0;
  function setTyping(delta) {
    waitingFor = Math.max(0, waitingFor + delta);
    var show = waitingFor > 0 && !paused;
    typing.hidden = !show;
    typingText.textContent = show ? T.typing : "";
    if (show) scrollToEnd();
  }

  // ---- Handoff state -------------------------------------------------------------------
  var handoff = null;
  function setHandoff(h) {
    if (h && handoff && h.ticket_id === handoff.ticket_id && h.queue_position == null && h.state === "waiting") {
      h = Object.assign({}, h, { queue_position: handoff.queue_position });
    }
    handoff = h || null;
    if (!handoff) {
      handoffBar.hidden = true;
      handoffText.textContent = "";
      root.classList.remove("txw-in-handoff");
    } else {
      handoffBar.hidden = false;
      handoffText.textContent = handoff.state === "active" ? T.active
        : handoff.queue_position ? T.queue(handoff.queue_position) : T.waiting;
      handoffBar.className = "txw-handoff txw-handoff-" + (handoff.state === "active" ? "active" : "waiting");
      root.classList.add("txw-in-handoff");
    }
    schedulePoll();
  }

  // ---- History and reconciliation ------------------------------------------------------
  var lastId = 0, seen = {}, unsynced = [];
  /** Messages shown from a turn have no store id yet: they wait here until history tells us their ids. */
  function matchUnsynced(m) {
    for (var i = 0; i < unsynced.length; i++) {
      var u = unsynced[i];
      if (m.from === "user" ? u.from === "user" : (u.from === m.from && u.text === m.text)) return i;
    }
    return -1;
  }
  function absorb(messages, initial) {
    var firstNew = null;
    messages.forEach(function (m) {
      if (typeof m.id === "number" && m.id > lastId) lastId = m.id;
      if (seen[m.id]) return;
      seen[m.id] = true;
      var i = matchUnsynced(m);
      if (i >= 0) { unsynced.splice(0, i + 1); return; }
      var item = render({ id: m.id, from: m.from, text: m.from === "user" ? userText(m.text) : m.text,
                          buttons: m.buttons, citations: m.citations });
      if (!firstNew && m.from !== "user") firstNew = item;
    });
    if (initial) scrollToEnd(); else if (firstNew) scrollToShow(firstNew);
  }

  var syncing = false, syncWanted = false, historyLoaded = false, historyNote = null;
  function history(since) {
    if (!TOKEN) return Promise.resolve({ messages: [], handoff: null });  // nothing said yet on this device
    var asked = TOKEN;
    return request("GET", "/api/history?since=" + since, null, 15000).catch(function (err) {
      // The conversation is gone (deleted, or purged after the retention period): start a new one, unless
      // a reply meanwhile brought the token of a conversation that has just begun.
      if (err.status === 401) {
        if (TOKEN === asked) newConversation();
        return { messages: [], handoff: null };
      }
      throw err;
    });
  }
  function sync() {
    if (syncing || inflight) { syncWanted = true; return Promise.resolve(); }
    syncing = true;
    syncWanted = false;
    return history(lastId).then(function (data) {
      online(true);
      absorb(data.messages || [], false);
      setHandoff(data.handoff);
    }, function () { online(false); }).then(function () { syncing = false; });
  }
  function loadHistory() {
    syncing = true;
    var pages = 0;
    function page() {
      return history(lastId).then(function (data) {
        var messages = data.messages || [];
        absorb(messages, true);
        pages += 1;
        if (messages.length >= 200 && pages < 10) return page();
        setHandoff(data.handoff);
        return null;
      });
    }
    return page().then(function () {
      historyLoaded = true;
      online(true);
      if (!log.children.length) systemNote(T.greeting).classList.add("txw-greeting");
    }, function () {
      online(false);
      if (!historyNote) historyNote = systemNote(T.historyFailed);
    }).then(function () { syncing = false; });
  }

  // ---- Network -------------------------------------------------------------------------
  function request(method, path, body, timeoutMs) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctrl) ctrl.abort(); }, timeoutMs);
    var headers = body ? { "Content-Type": "application/json" } : {};
    if (TOKEN) headers["X-Session-Token"] = TOKEN;
    return fetch(ENDPOINT + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      signal: ctrl ? ctrl.signal : undefined,
      credentials: "omit"
    }).then(function (r) {
      clearTimeout(timer);
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var err = new Error("http " + r.status); err.status = r.status; err.data = data; throw err; }
        return data;
      });
    }, function (e) { clearTimeout(timer); throw e; });
  }

  var isOnline = true;
  function online(ok) {
    isOnline = ok;
    conn.hidden = ok;
    conn.textContent = ok ? "" : T.offline;
  }

  // The outbox: one message in flight at a time, so answers come back in order.
  var outbox = [], inflight = null, paused = false, failNote = null;

  function send(text, display) {
    var msg = { text: text, cid: randomId("c-", 10), tries: 0 };
    renderUser(display || text);
    unsynced.push({ from: "user", text: text });
    outbox.push(msg);
    setTyping(1);
    pump();
  }

  function pump() {
    if (inflight || paused || !outbox.length) return;
    var msg = outbox[0];
    inflight = msg;
    msg.tries += 1;
    if (wsOpen) sendWs(msg); else sendRest(msg);
  }

  function finish(msg, data) {
    if (inflight !== msg) return;  // already answered (a late duplicate)
    clearTimeout(msg.timer);
    inflight = null;
    outbox.shift();
    setTyping(-1);
    online(true);
    if (data) setToken(data.session_token);
    var replies = (data && data.replies) || [];
    var first = null;
    replies.forEach(function (r) {
      var item = render({ from: r.author || "bot", text: r.text, buttons: r.buttons, citations: r.citations });
      unsynced.push({ from: r.author || "bot", text: r.text });
      if (!first) first = item;
    });
    if (first) scrollToShow(first);
    if (data && "handoff" in data) setHandoff(data.handoff);
    if (msg.tries > 1) {
      // A retried message may have been answered while we were cut off: fetch what the store has.
      setTimeout(sync, 3000);
    }
    pump();
    if (syncWanted && !inflight) sync();
  }

  function finishLocal(msg, text) {
    if (inflight !== msg) return;
    clearTimeout(msg.timer);
    inflight = null;
    outbox.shift();
    setTyping(-1);
    systemNote(text);
    pump();
  }

  function retryLater(msg, delay) {
    if (inflight !== msg) return;
    clearTimeout(msg.timer);
    inflight = null;
    if (msg.tries >= 3) {
      paused = true;
      setTyping(0);
      online(false);
      if (!failNote || !failNote.isConnected) {
        var again = button("txw-resend", T.resend, function () { resume(); });
        failNote = systemNote(T.unreachable, again);
        failNote.classList.add("txw-failed");
      }
      return;
    }
    online(false);
    msg.timer = setTimeout(pump, delay);
  }

  function resume() {
    if (failNote) {
      var b = failNote.querySelector(".txw-resend");
      if (b) b.remove();
      failNote = null;
    }
    outbox.forEach(function (m) { m.tries = 0; });
    paused = false;
    setTyping(0);
    pump();
  }

  function sendRest(msg) {
    request("POST", "/api/chat", { sender_id: SENDER, text: msg.text, client_id: msg.cid }, 60000).then(function (data) {
      finish(msg, data);
    }, function (err) {
      if (err.status === 422) {
        finishLocal(msg, chars(msg.text) > MAX_CHARS ? T.tooLongServer : T.invalid);
      } else if (err.status && err.status < 500 && err.status !== 429 && err.status !== 408) {
        finishLocal(msg, T.invalid);
      } else {
        retryLater(msg, 1500 * msg.tries);
      }
    });
  }

  // ---- WebSocket with reconnect; REST is used whenever the socket is not open ---------------
  var ws = null, wsOpen = false, wsFailures = 0, wsTimer = null, everOpened = false;
  function wsUrl() {
    return ENDPOINT.replace(/^http/, "ws") + "/ws";
  }
  function connect() {
    clearTimeout(wsTimer);
    if (!window.WebSocket) return;
    var sock;
    try { sock = new WebSocket(wsUrl()); } catch (e) { scheduleReconnect(); return; }
    ws = sock;
    sock.onopen = function () {
      if (ws !== sock) return;
      sock.send(JSON.stringify({ type: "hello", sender_id: SENDER, session_token: TOKEN }));
      wsOpen = true;
      wsFailures = 0;
      online(true);
      schedulePoll();
      if (!historyLoaded) loadHistory();  // the first attempt failed: try again now the server answers
      else if (everOpened) sync();  // catch up on anything pushed while we were away
      everOpened = true;
      if (paused) resume(); else pump();
    };
    sock.onmessage = function (ev) {
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (!data || typeof data !== "object") return;
      if (data.type === "session") {
        setToken(data.session_token);
      } else if (data.type === "turn") {
        if (inflight && inflight.cid === data.client_id) finish(inflight, data);
      } else if (data.type === "push") {
        if (data.id != null && seen[data.id]) return;
        if (data.id != null) seen[data.id] = true;
        var item = render({ id: data.id, from: data.author || "staff", text: data.text, buttons: data.buttons,
                            citations: data.citations });
        scrollToShow(item);
        setTimeout(sync, 300);  // the handoff state (taken, closed) comes with history
      } else if (data.type === "error") {
        if (inflight && inflight.cid === data.client_id) {
          finishLocal(inflight, data.code === "text_too_long" ? T.tooLongServer : T.invalid);
        }
      }
    };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      if (ev && ev.code === 4401) newConversation();  // not ours any more (deleted or purged): a new one
      ws = null;
      var wasOpen = wsOpen;
      wsOpen = false;
      if (!wasOpen) wsFailures += 1;
      schedulePoll();
      if (inflight && inflight.viaWs) {
        // The answer may still be on its way in the store: resend the same client_id shortly.
        var msg = inflight;
        msg.viaWs = false;
        retryLater(msg, 2000);
      }
      scheduleReconnect();
    };
    sock.onerror = function () { /* onclose follows */ };
  }
  function scheduleReconnect() {
    clearTimeout(wsTimer);
    var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(wsFailures, 5)));
    wsTimer = setTimeout(connect, delay);
  }
  function sendWs(msg) {
    try {
      msg.viaWs = true;
      ws.send(JSON.stringify({ type: "message", text: msg.text, client_id: msg.cid }));
    } catch (e) {
      msg.viaWs = false;
      sendRest(msg);
      return;
    }
    // No answer in time: ask again over REST with the same client_id (never answered twice).
    msg.timer = setTimeout(function () {
      if (inflight === msg) { msg.viaWs = false; sendRest(msg); }
    }, 45000);
  }

  // While a person may answer, check the store for their messages: often without a socket, rarely with one.
  var pollTimer = null;
  function schedulePoll() {
    clearTimeout(pollTimer);
    if (!handoff) return;
    pollTimer = setTimeout(function () {
      sync().then(schedulePoll);
    }, wsOpen ? 15000 : 3000);
  }

  window.addEventListener("online", function () {
    if (!historyLoaded && !syncing) loadHistory();
    if (!wsOpen) connect();
    if (paused) resume();
  });

  // ---- Composer ------------------------------------------------------------------------
  function updateCounter() {
    var n = chars(input.value);
    counter.textContent = T.counter(n, MAX_CHARS);
    var over = n > MAX_CHARS;
    counter.classList.toggle("txw-over", over);
    counter.classList.toggle("txw-near", !over && n > MAX_CHARS * 0.9);
    input.setAttribute("aria-invalid", String(over));
    var msg = over ? T.tooLong(MAX_CHARS) : "";
    if (warn.textContent !== msg) warn.textContent = msg;
    sendBtn.setAttribute("aria-disabled", String(over));
    if (!root.isConnected) return;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 160) + "px";
  }
  input.addEventListener("input", updateCounter);
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  function submit() {
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (chars(text) > MAX_CHARS) { updateCounter(); input.focus(); return; }
    input.value = "";
    updateCounter();
    send(text, text);
    input.focus();
  }
  humanBtn.addEventListener("click", function () { send("/request_human", T.human); });
  backBtn.addEventListener("click", function () { send("/tx_back_to_bot", T.backToBot); focusComposer(); });

  // ---- Start ---------------------------------------------------------------------------
  function start() {
    document.body.appendChild(root);
    setOpen(START_OPEN, false);
    updateCounter();
    loadHistory().then(connect);
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
