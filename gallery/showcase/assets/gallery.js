// ispyrender gallery index: filters and sorting over the cards, in plain JS.
// The data comes from the JSON block in the page (no fetch: the site must work from file://).
(function () {
  "use strict";
  var events = JSON.parse(document.getElementById("gallery-data").textContent);
  var grid = document.getElementById("grid");
  var cards = {};
  Array.prototype.forEach.call(grid.querySelectorAll(".card"), function (card) {
    cards[card.getAttribute("data-index")] = card;
  });
  var byIndex = {};
  events.forEach(function (e) { byIndex[e.index] = e; });

  function number(id) {
    var text = document.getElementById(id).value.trim();
    var value = text === "" ? NaN : Number(text);
    return isFinite(value) ? value : null;
  }

  function passes(e) {
    var kinds = ["muons", "electrons", "photons", "jets"];
    for (var i = 0; i < kinds.length; i++) {
      var least = number("min-" + kinds[i]);
      if (least !== null && e.counts[kinds[i]] < least) return false;
    }
    var lo = number("mass-min"), hi = number("mass-max");
    if (lo !== null || hi !== null) {
      // An event without a leading pair has no mass to be in a range.
      if (e.mass === null) return false;
      if (lo !== null && e.mass < lo) return false;
      if (hi !== null && e.mass > hi) return false;
    }
    var kind = document.getElementById("kind").value;
    if (kind === "data" && e.simulation) return false;
    if (kind === "simulation" && !e.simulation) return false;
    return true;
  }

  // Missing values (no MET branch, no pair) sort last whatever the direction.
  var keys = {
    index: function (e) { return e.index; },
    event: function (e) { return e.event; },
    met: function (e) { return e.met === null ? null : -e.met; },
    mass: function (e) { return e.mass === null ? null : -e.mass; },
    n_objects: function (e) { return -e.n_objects; }
  };

  function update() {
    var key = keys[document.getElementById("sort").value] || keys.index;
    var order = events.slice().sort(function (a, b) {
      var ka = key(a), kb = key(b);
      if (ka === kb) return a.index - b.index;
      if (ka === null) return 1;
      if (kb === null) return -1;
      return ka < kb ? -1 : 1;
    });
    var shown = 0;
    order.forEach(function (e) {
      var card = cards[e.index];
      var ok = passes(e);
      card.hidden = !ok;
      if (ok) shown++;
      grid.appendChild(card); // moves it: the grid ends in the sorted order
    });
    document.getElementById("shown").textContent = shown + " of " + events.length + " shown";
    document.getElementById("empty").hidden = shown > 0;
  }

  var controls = document.getElementById("controls");
  controls.addEventListener("input", update);
  controls.addEventListener("change", update);
  document.getElementById("reset-filters").addEventListener("click", function () {
    HTMLFormElement.prototype.reset.call(controls); // a control named "reset" would shadow it
    update();
  });
  window.ispyGallery = { update: update, events: byIndex };
  update();
})();
