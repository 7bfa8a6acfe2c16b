// Live updates keep the keyboard's place. htmx gives focus back to an element with the same id after a
// swap; when the focused element is gone (a finished progress card replaces its links and buttons),
// the focus would fall to the page's body: it goes to the new result instead ([data-take-focus]).
document.addEventListener("htmx:afterSettle", function () {
  var target = document.querySelector("[data-take-focus]");
  if (!target) return;
  target.removeAttribute("data-take-focus");
  if (document.activeElement === document.body || document.activeElement === null) target.focus();
});
