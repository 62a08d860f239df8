/* Funnel page behaviour: SLA countdowns, row panels, keyboard shortcuts and
   the htmx glue (announcements, focus after a row is answered). No framework;
   htmx (served by django-htmx) does the requests. */
(function () {
  "use strict";

  // Django's JavaScript catalogue (/jsi18n/, loaded before this file); English if it failed to load.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (singular, plural, count) { return count === 1 ? singular : plural; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };
  function words(translated, values) { return interpolate(translated, values, true); }

  // ---------- SLA countdowns ----------
  //
  // A countdown carries its due time (data-due). A business-hours clock also
  // carries the business time left when the server rendered it (data-now,
  // data-business-left in seconds), whether working time was running then
  // (data-working-now) and the instants at which working time next starts or
  // stops (data-changes), so it counts down only while working time runs and
  // says until when it is paused. Once no business time is left before the due
  // time (a holiday added after the lead was routed puts the due time outside
  // working hours) it counts the real time to the due time, never a stuck zero.
  // Past the due time every clock counts overdue time on the wall clock, as
  // the SLA job does.

  var pad = function (n) { return (n < 10 ? "0" : "") + n; };

  function duration(seconds, withDays) {
    var days = withDays ? Math.floor(seconds / 86400) : 0;
    var hours = Math.floor((seconds - days * 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    // The same formats (and catalogue entries) as sla_ui.duration: "1d 3h" / "1 T 3 Std.".
    if (days) return words(gettext("%(days)sd %(hours)sh"), { days: days, hours: hours });
    if (hours) return words(gettext("%(hours)sh %(minutes)sm"), { hours: hours, minutes: pad(minutes) });
    if (minutes) return words(gettext("%(minutes)sm %(seconds)ss"), { minutes: minutes, seconds: pad(secs) });
    return words(gettext("%(seconds)ss"), { seconds: secs });
  }

  // The same words as the server's "span" filter: "12 min", "2h 5m", "3d 4h".
  function span(milliseconds) {
    var minutes = Math.floor(milliseconds / 60000);
    if (minutes < 1) return gettext("less than a minute");
    if (minutes < 60) return words(gettext("%(minutes)s min"), { minutes: minutes });
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    minutes = minutes % 60;
    if (days) {
      return hours ? words(gettext("%(days)sd %(hours)sh"), { days: days, hours: hours }) : words(gettext("%(days)sd"), { days: days });
    }
    return minutes ? words(gettext("%(hours)sh %(minutes)sm"), { hours: hours, minutes: minutes }) : words(gettext("%(hours)sh"), { hours: hours });
  }

  // Times in the page's language and the user's time zone (their profile's, not the browser's),
  // so two people in different zones each read the same moment in their own.
  // English dates read day first, as the server writes them ("6 Dec, 00:26": funnelapp/formats/en).
  var pageLanguage = document.documentElement.lang || undefined;
  var dateLocale = pageLanguage === "en" ? "en-GB" : pageLanguage;
  var pageTimeZone = document.documentElement.dataset.timeZone || undefined;
  function dateTimeFormatOf(options) {
    options.timeZone = pageTimeZone;
    try {
      return new Intl.DateTimeFormat(dateLocale, options);
    } catch (e) {  // a zone this browser does not know
      delete options.timeZone;
      return new Intl.DateTimeFormat(dateLocale, options);
    }
  }
  var dayTimeFormat = dateTimeFormatOf({
    weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  var dateTimeFormat = dateTimeFormatOf({
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });

  function dayTime(at) {
    // A weekday names the right day only within the coming week.
    return (at - Date.now() < 6 * 86400000 ? dayTimeFormat : dateTimeFormat).format(new Date(at));
  }

  function businessClock(el, now) {
    if (!el._changes) {
      el._changes = (el.dataset.changes || "").split(" ").filter(Boolean).map(Date.parse);
    }
    var left = Number(el.dataset.businessLeft) * 1000;
    var working = el.dataset.workingNow === "true";
    var from = Date.parse(el.dataset.now);
    var next = null;
    for (var i = 0; i < el._changes.length; i++) {
      var change = el._changes[i];
      if (change > now) {
        next = change;
        break;
      }
      if (working) left -= change - from;
      from = change;
      working = !working;
    }
    if (working && now > from) left -= now - from;
    return { left: left, working: working, next: next };
  }

  function showPause(el, paused, next) {
    var note = el.parentNode.querySelector("[data-paused]");
    if (!note) return;
    note.hidden = !paused;
    var until = note.querySelector("[data-until]");
    if (paused && until) {
      var text = next ? dayTime(next) : gettext("the next working hours");
      if (until.textContent !== text) until.textContent = text;
    }
  }

  function updateCountdowns() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      var seconds = Math.round((due - now) / 1000);
      var overdue = seconds < 0;
      var business = el.dataset.businessLeft !== undefined;
      var clock = business && !overdue ? businessClock(el, now) : null;
      var paused = false;
      var next = null;
      var text;
      if (overdue) {
        text = words(gettext("overdue by %(duration)s"), { duration: duration(-seconds, true) });
      } else if (clock && clock.left > 0) {
        seconds = Math.round(clock.left / 1000);
        paused = !clock.working;
        next = clock.next;
        text = words(gettext("due in %(duration)s of business time"), { duration: duration(seconds, false) });
      } else {
        text = words(gettext("due in %(duration)s"), { duration: duration(seconds, true) });
      }
      if (el.textContent !== text) el.textContent = text;
      el.classList.toggle("is-overdue", overdue);
      el.classList.toggle("is-paused", paused);
      el.classList.toggle("is-soon", !overdue && !paused && seconds < 15 * 60);
      if (business) showPause(el, paused, next);
    });
    document.querySelectorAll("[data-breached-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.breachedSince);
      if (isNaN(since)) return;
      var text = words(gettext("breached %(span)s ago"), { span: span(now - since) });
      if (el.textContent !== text) el.textContent = text;
    });
  }

  var timeFormat = dateTimeFormatOf({
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });

  var fullFormat = dateTimeFormatOf({ dateStyle: "full", timeStyle: "long" });

  function localizeTimes(root) {
    root.querySelectorAll("[data-local-time]").forEach(function (el) {
      var at = Date.parse(el.dataset.localTime);
      if (!isNaN(at)) {
        el.textContent = timeFormat.format(new Date(at));
        el.title = fullFormat.format(new Date(at));
      }
    });
  }

  // ---------- Announcements ----------

  function announce(text) {
    var live = document.getElementById("live");
    if (!live || !text) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  function toast(text) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "message message-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    box.appendChild(p);
    window.setTimeout(function () { p.remove(); }, 8000);
  }

  // ---------- Rows and panels ----------

  function keyboardList() {
    return document.querySelector("[data-keyboard-list]");
  }

  function rows() {
    var list = keyboardList();
    return list ? Array.prototype.slice.call(list.querySelectorAll(".lead-row[data-lead-id]")) : [];
  }

  function selectedRow() {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest(".lead-row[data-lead-id]") : null;
    return row || document.querySelector(".lead-row.is-selected");
  }

  function select(row, focus) {
    if (!row) return;
    document.querySelectorAll(".lead-row.is-selected").forEach(function (r) {
      r.classList.remove("is-selected");
      r.removeAttribute("aria-current");
    });
    row.classList.add("is-selected");
    row.setAttribute("aria-current", "true");
    if (focus) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(selectedRow());
    var next = index < 0 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
    select(all[next], true);
  }

  function setPanel(toggle, open) {
    var panel = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!panel) return;
    var row = toggle.closest(".lead-row");
    if (open && row) {
      // One open panel per row: opening "disqualify" closes "log activity".
      row.querySelectorAll("[data-toggle][aria-expanded=true]").forEach(function (other) {
        if (other !== toggle) setPanel(other, false);
      });
    }
    panel.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      var first = panel.querySelector("select, input:not([type=hidden])");
      if (first) first.focus();
    }
  }

  function closePanel(panel) {
    var toggle = document.querySelector('[aria-controls="' + panel.id + '"]');
    if (toggle) setPanel(toggle, false);
    var row = panel.closest(".lead-row");
    if (row) select(row, true);
  }

  // A count pill shows the whole list, not just this page: an answered row takes
  // one off it. The navigation's breached count goes away with the last breach.
  var countFormat = new Intl.NumberFormat(pageLanguage);

  function countDown() {
    countBy(-1);
  }

  function countBy(delta) {
    document.querySelectorAll("[data-row-count]").forEach(function (el) {
      var count = parseInt(el.textContent.replace(/[^0-9]/g, ""), 10);
      if (isNaN(count)) return;
      count = Math.max(0, count + delta);
      el.textContent = countFormat.format(count);
      var navCount = el.closest("[data-nav-count]");
      if (navCount) navCount.hidden = count === 0;
    });
  }

  function leadsLeft() {
    var count = document.querySelector("[data-row-count]");
    return count ? parseInt(count.textContent.replace(/[^0-9]/g, ""), 10) || 0 : 0;
  }

  // Once the last row of the page is gone: the empty state if nothing is left at
  // all, else a way to the leads on the other pages.
  function showWhenPageEmpty() {
    var list = keyboardList() || document.querySelector(".lead-list");
    if (!list || list.querySelector(".lead-row")) return;
    var empty = document.querySelector(leadsLeft() > 0 ? "[data-page-done]" : "[data-empty-state]");
    if (!empty) return;
    empty.hidden = false;
    var link = empty.querySelector("a");
    if (link && (!document.activeElement || document.activeElement === document.body)) link.focus();
  }

  function settleDoneRow(row) {
    announce(row.dataset.announce);
    var next = row.nextElementSibling;
    while (next && !next.matches(".lead-row[data-lead-id]")) next = next.nextElementSibling;
    if (!next) {
      next = row.previousElementSibling;
      while (next && !next.matches(".lead-row[data-lead-id]")) next = next.previousElementSibling;
    }
    var focusWasLost = !document.activeElement || document.activeElement === document.body ||
      row.contains(document.activeElement);
    if (next) select(next, focusWasLost);
    countDown();
    var removed = false;
    var remove = function () {
      // An Undo on its way: its answer replaces this row.
      if (removed || row.querySelector(".htmx-request")) return;
      removed = true;
      row.remove();
      showWhenPageEmpty();
    };
    row.addEventListener("animationend", remove);
    window.setTimeout(remove, 4000);
  }

  function toggleHelp() {
    var dialog = document.getElementById("shortcut-help");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  // ---------- Events ----------

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle]");
    if (toggle) {
      setPanel(toggle, toggle.getAttribute("aria-expanded") !== "true");
      return;
    }
    var cancel = event.target.closest("[data-cancel]");
    if (cancel) {
      closePanel(cancel.closest(".row-panel"));
      return;
    }
    if (event.target.closest("[data-help-toggle]")) {
      toggleHelp();
      return;
    }
    var row = event.target.closest(".lead-row[data-lead-id]");
    if (row && keyboardList() && keyboardList().contains(row)) select(row, false);
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target.closest && target.closest("input, textarea, select, [contenteditable]");

    if (event.key === "Escape") {
      var panel = target.closest && target.closest(".row-panel.is-open");
      panel = panel || (selectedRow() && selectedRow().querySelector(".row-panel.is-open"));
      if (panel) {
        event.preventDefault();
        closePanel(panel);
      }
      return;
    }
    if (typing) {
      // A select does not submit its form on Enter by itself; in a row panel it should.
      if (event.key === "Enter" && target.tagName === "SELECT" && target.form && target.closest(".row-panel")) {
        event.preventDefault();
        target.form.requestSubmit();
      }
      return;
    }
    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    if (!keyboardList() || document.querySelector("dialog[open]")) return;
    var row = selectedRow();
    var button;
    switch (event.key) {
      case "j":
        event.preventDefault();
        move(1);
        break;
      case "k":
        event.preventDefault();
        move(-1);
        break;
      case "a":
        button = row && row.querySelector('[data-action="accept"]');
        if (button) {
          event.preventDefault();
          button.click();
        }
        break;
      case "r":
        button = row && row.querySelector('[data-action="reject"]');
        if (button) {
          event.preventDefault();
          setPanel(button, true);
        }
        break;
    }
  });

  // An inline error (400/403/409 retargeted to the row) must not be taken over by
  // django-htmx's debug error page, which listens further up on document.
  document.body.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Retarget")) event.stopPropagation();
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var loginUrl = document.body.dataset.loginUrl;
    // The session ended: the POST was redirected to the login page. Go there for real.
    if (xhr && xhr.responseURL && loginUrl && new URL(xhr.responseURL).pathname === loginUrl) {
      event.detail.shouldSwap = false;
      window.location.assign(xhr.responseURL);
    }
  });

  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var text = status === 404
      ? gettext("That lead is no longer available to you. Reload the page to see the current list.")
      : words(gettext("Something went wrong (%(status)s). Nothing was changed; please try again."), { status: status });
    toast(text);
    announce(text);
  });

  document.body.addEventListener("htmx:sendError", function () {
    toast(gettext("Could not reach the server. Check your connection and try again."));
  });

  document.body.addEventListener("htmx:load", function (event) {
    var el = event.detail.elt;
    localizeTimes(el);
    updateCountdowns();
    if (el.matches && el.matches(".lead-row.is-done")) {
      settleDoneRow(el);
    } else if (el.matches && el.matches(".lead-row[data-lead-id]")) {
      // A row brought back by Undo counts again.
      if (el.hasAttribute("data-restored")) countBy(1);
      var flash = el.querySelector("[data-announce]");
      if (flash) announce(flash.dataset.announce);
      select(el, !document.activeElement || document.activeElement === document.body);
    }
  });

  // ---------- Rows that stay true ----------
  // Every interval, one request per list asks what others did to its rows since the
  // page was drawn; a changed row becomes a line saying who did what, with no live buttons.

  function staleRow(row, line) {
    var replacement = document.createElement(row.tagName);
    replacement.id = row.id;
    replacement.className = row.tagName === "TR" ? "is-stale" : "lead-row is-stale";
    replacement.setAttribute("role", "status");
    var holder = replacement;
    if (row.tagName === "TR") {
      holder = document.createElement("td");
      holder.colSpan = row.children.length || 1;
      replacement.appendChild(holder);
    }
    var name = row.querySelector(".lead-name");
    var text = document.createElement("span");
    text.textContent = (name ? name.textContent.trim() + ": " : "") + line;
    holder.appendChild(text);
    if (name && name.getAttribute("href")) {
      var link = document.createElement("a");
      link.href = name.getAttribute("href");
      link.textContent = gettext("Open lead");
      holder.appendChild(document.createTextNode(" "));
      holder.appendChild(link);
    }
    row.replaceWith(replacement);
    announce(text.textContent);
  }

  function showNewMqls(count) {
    var banner = document.querySelector("[data-live-new]");
    if (!banner || !count) return;
    var text = interpolate(
      ngettext("%(count)s new MQL arrived.", "%(count)s new MQLs arrived.", count), { count: count }, true
    );
    var label = banner.querySelector("[data-live-new-text]");
    if (label.textContent !== text) {
      label.textContent = text;
      announce(text);
    }
    banner.querySelector("a").href = window.location.pathname + window.location.search;
    banner.hidden = false;
  }

  function pollLiveRows(list) {
    var ids = Array.prototype.map.call(list.querySelectorAll("[data-lead-id]"), function (row) {
      return row.dataset.leadId;
    });
    var since = list.dataset.liveSince;
    if ((!ids.length && !since) || document.hidden) return;
    var url = list.dataset.liveUrl + "?after=" + encodeURIComponent(list.dataset.liveCursor) + "&ids=" + ids.join(",");
    if (since) url += "&since=" + encodeURIComponent(since);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        list.dataset.liveCursor = data.cursor;
        showNewMqls(data.new_mqls || 0);
        Object.keys(data.changes).forEach(function (id) {
          var row = list.querySelector('[data-lead-id="' + id + '"]');
          if (row && !row.querySelector(".htmx-request")) staleRow(row, data.changes[id]);
        });
      })
      .catch(function () { /* offline for a moment: the next interval asks again */ });
  }

  document.querySelectorAll("[data-live-rows]").forEach(function (list) {
    var interval = parseInt(list.dataset.liveInterval, 10) || 10000;
    window.setInterval(function () { pollLiveRows(list); }, interval);
  });

  // ---------- The user's time zone, told once ----------

  // A profile without a time zone (a first sign-in not through the sign-in form) takes the
  // browser's; the page is shown again in it when it is not UTC.
  function tellTimeZone() {
    document.querySelectorAll("[data-browser-time-zone]").forEach(function (input) {
      input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    });
    var url = document.body.dataset.timeZoneUnknown;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!url || !zone) return;
    var body = new URLSearchParams({ time_zone: zone });
    var token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": token } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && data.changed) window.location.reload(); })
      .catch(function () { /* told at the next page instead */ });
  }

  // ---------- Start ----------

  tellTimeZone();

  localizeTimes(document);
  updateCountdowns();
  window.setInterval(updateCountdowns, 1000);
  var first = rows()[0];
  if (first) select(first, false);
})();
