// Copy buttons: <button data-copy="#id"> copies the text of that element and says so for a moment.
// The clipboard API needs a secure context (https or localhost); elsewhere the text is selected
// and copied the old way, and if that fails too it stays selected for Ctrl-C.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var source = document.querySelector(button.getAttribute("data-copy"));
  if (!source) return;
  var text = source.textContent.trim();
  var label = button.getAttribute("data-label") || button.textContent;
  button.setAttribute("data-label", label);
  function said(words) {
    button.textContent = words;
    setTimeout(function () { button.textContent = label; }, 2000);
  }
  function fallback() {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    said(document.execCommand && document.execCommand("copy") ? "Copied" : "Selected: press Ctrl-C");
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { said("Copied"); }, fallback);
  } else {
    fallback();
  }
});
