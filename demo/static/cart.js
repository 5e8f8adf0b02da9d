// The demo store's cart: a `vt_cart` cookie ("SKU:QTY,SKU:QTY", SKUs URI-encoded) that the
// edge worker reads to personalize the cart page. No server: the store is static files.
(function () {
  "use strict";
  function read() {
    var m = document.cookie.match(/(?:^|;\s*)vt_cart=([^;]*)/);
    var lines = [];
    if (!m) return lines;
    m[1].split(",").forEach(function (entry) {
      var i = entry.lastIndexOf(":");
      if (i <= 0) return;
      var qty = parseInt(entry.slice(i + 1), 10);
      if (qty > 0) lines.push({ sku: decodeURIComponent(entry.slice(0, i)), qty: qty });
    });
    return lines;
  }
  function write(lines) {
    var value = lines.map(function (l) { return encodeURIComponent(l.sku) + ":" + l.qty; }).join(",");
    document.cookie = "vt_cart=" + value + "; Path=/; Max-Age=" + (value ? 2592000 : 0) + "; SameSite=Lax";
  }
  function add(sku) {
    var lines = read();
    var line = lines.filter(function (l) { return l.sku === sku; })[0];
    if (line) line.qty += 1; else lines.push({ sku: sku, qty: 1 });
    write(lines);
    if (window.vitrine && window.vitrine.track) {
      try { window.vitrine.track("Product Added", { sku: sku, quantity: 1 }); } catch (e) {}
    }
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-add-sku]");
    if (btn) {
      add(btn.getAttribute("data-add-sku"));
      location.href = btn.getAttribute("data-cart-url") || "/cart";
    }
    if (ev.target.closest && ev.target.closest("[data-clear-cart]")) {
      write([]);
      location.reload();
    }
  });
  // The cart page lists its lines from the cookie and the catalog data island.
  var list = document.getElementById("cart-lines");
  var data = document.getElementById("catalog-data");
  if (list && data) {
    var catalog = JSON.parse(data.textContent);
    var lines = read();
    list.innerHTML = "";
    if (!lines.length) list.innerHTML = "<li>Your cart is empty.</li>";
    lines.forEach(function (l) {
      var p = catalog[l.sku];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = p ? p[2] : "#";
      a.textContent = (p ? p[0] : l.sku) + " \u00d7 " + l.qty;
      li.appendChild(a);
      if (p) li.appendChild(document.createTextNode(" \u2014 " + p[1]));
      list.appendChild(li);
    });
  }
})();
