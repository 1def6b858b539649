/* Keyboard shortcuts for the console: a progressive enhancement (every page works without it).
 *
 *   j / k    next / previous row of the page's list (the row's first link takes the focus)
 *   Enter    open the current row
 *   /        focus the search field (or go to the case list's search)
 *   c        new case (for those who may create one)
 *   ?        show these shortcuts (Escape closes)
 *
 * Keys typed in a field, with Ctrl, Alt or Meta, or while an input method composes, are left
 * alone. Served from /static (same origin), no inline script: the console's CSP holds.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var urls = {
    newCase: script ? script.getAttribute("data-new-case") : null,
    search: script ? script.getAttribute("data-search") : null
  };
  var current = -1;

  function typing(target) {
    if (!target || !target.closest) {
      return false;
    }
    return target.isContentEditable ||
      target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function rows() {
    var all = document.querySelectorAll("main table tbody tr");
    var found = [];
    for (var i = 0; i < all.length; i += 1) {
      if (all[i].querySelector("a[href]")) {
        found.push(all[i]);
      }
    }
    return found;
  }

  function move(step) {
    var list = rows();
    if (!list.length) {
      return false;
    }
    if (current >= 0 && current < list.length) {
      list[current].classList.remove("kb-current");
    }
    current = Math.max(0, Math.min(list.length - 1, current + step));
    var row = list[current];
    row.classList.add("kb-current");
    row.querySelector("a[href]").focus();
    row.scrollIntoView({block: "nearest"});
    return true;
  }

  function openCurrent() {
    var list = rows();
    if (current < 0 || current >= list.length) {
      return false;
    }
    window.location.assign(list[current].querySelector("a[href]").href);
    return true;
  }

  function focusSearch() {
    var field = document.querySelector("main input[type=search], main [role=search] input");
    if (field) {
      field.focus();
      field.select();
      return true;
    }
    if (urls.search) {
      window.location.assign(urls.search + "#search");
      return true;
    }
    return false;
  }

  function help() {
    var dialog = document.getElementById("kb-help");
    if (!dialog || typeof dialog.showModal !== "function") {
      return false;
    }
    if (!dialog.open) {
      dialog.showModal();
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey ||
        event.isComposing || typing(event.target)) {
      return;
    }
    var dialog = document.getElementById("kb-help");
    if (dialog && dialog.open) {
      return;  /* the dialog handles Escape itself */
    }
    var done = false;
    switch (event.key) {
      case "j": done = move(1); break;
      case "k": done = move(current < 0 ? 1 : -1); break;
      case "Enter":
        /* a focused link or button opens itself */
        if (!event.target.closest || !event.target.closest("a[href], button, summary")) {
          done = openCurrent();
        }
        break;
      case "/": done = focusSearch(); break;
      case "c":
        if (urls.newCase) {
          window.location.assign(urls.newCase);
          done = true;
        }
        break;
      case "?": done = help(); break;
      default: break;
    }
    if (done) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (window.location.hash === "#search") {
      focusSearch();
    }
  });
}());
