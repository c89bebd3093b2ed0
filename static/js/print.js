// Buttons marked data-print open the browser's print dialog (no inline handler: the CSP
// allows scripts from our own files only).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
