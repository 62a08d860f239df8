// Loaded synchronously in <head> (the CSP allows no inline script): styles for
// script-only controls apply before the first paint.
document.documentElement.classList.replace("no-js", "js");
