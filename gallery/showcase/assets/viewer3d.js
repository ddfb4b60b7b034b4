// ispyrender gallery: a small 3D view of one event on a 2D canvas (no WebGL, no libraries).
// The event comes from the JSON block #event-3d, in metres and GeV in CMS coordinates:
// x towards the LHC centre, y up, z along the anticlockwise beam.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("event-3d").textContent);
  var canvas = document.getElementById("view3d");
  var ctx = canvas.getContext("2d");

  // Rough CMS outlines (radius, half length) in metres, to give the tracks a scale.
  var OUTLINES = [
    { r: 1.17, z: 2.9, label: "tracker" },
    { r: 2.95, z: 5.6, label: "calorimeters" },
    { r: 7.4, z: 10.6, label: "muon system" }
  ];
  var ECAL_R = 1.29;
  var VIEWS = { "3d": [-0.6, 0.35], transverse: [0, 0], longitudinal: [Math.PI / 2, 0] };

  // How far out the tracks reach picks the outlines drawn (muons to 7 m, electrons to 1.3 m)
  // and the zoom: the event and its outlines fill the canvas in the starting 3D view.
  var reach = ECAL_R;
  function extend(p) { reach = Math.max(reach, Math.hypot(p[0], p[1]), Math.abs(p[2]) * 0.4); }
  data.tracks.forEach(function (t) { t.points.forEach(extend); });
  data.jets.forEach(function (j) {
    var d = direction(j.eta, j.phi), length = jetLength(j);
    extend([d[0] * length, d[1] * length, d[2] * length]);
  });
  var outlines = [];
  for (var k = 0; k < OUTLINES.length; k++) {
    outlines.push(OUTLINES[k]);
    if (OUTLINES[k].r >= reach) break;
  }
  var state = { yaw: VIEWS["3d"][0], pitch: VIEWS["3d"][1], zoom: 1 };
  var extent = (function () {
    var o = outlines[outlines.length - 1], pts = [];
    for (var a = 0; a < 8; a++) {
      var c = o.r * Math.cos(Math.PI * a / 4), s = o.r * Math.sin(Math.PI * a / 4);
      pts.push([c, s, -o.z], [c, s, o.z]);
    }
    var cy = Math.cos(state.yaw), sy = Math.sin(state.yaw);
    var cp = Math.cos(state.pitch), sp = Math.sin(state.pitch);
    var mx = 1e-3, my = 1e-3;
    pts.forEach(function (p) {
      var x = p[0] * cy + p[2] * sy, z = -p[0] * sy + p[2] * cy, y = p[1] * cp - z * sp;
      mx = Math.max(mx, Math.abs(x));
      my = Math.max(my, Math.abs(y));
    });
    return [mx, my, Math.hypot(o.r, o.z)];
  })();

  // Long enough to reach the calorimeters, longer with energy, as in the pictures.
  function jetLength(j) { return Math.min(1.2 + j.energy / 150, 3.0); }

  function direction(eta, phi) {
    var theta = 2 * Math.atan(Math.exp(-eta));
    return [Math.sin(theta) * Math.cos(phi), Math.sin(theta) * Math.sin(phi), Math.cos(theta)];
  }

  function resize() {
    var ratio = window.devicePixelRatio || 1;
    var w = Math.max(200, Math.round(canvas.clientWidth * ratio));
    var h = Math.round(w * 3 / 4);
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  }

  // World -> screen: turn about y (yaw), then about x (pitch), then a mild perspective.
  function projector() {
    var cy = Math.cos(state.yaw), sy = Math.sin(state.yaw);
    var cp = Math.cos(state.pitch), sp = Math.sin(state.pitch);
    var scale = Math.min(0.47 * canvas.width / extent[0], 0.47 * canvas.height / extent[1]) * state.zoom;
    var cx = canvas.width / 2, cyy = canvas.height / 2, depth = extent[2] * 8;
    return function (p) {
      var x = p[0] * cy + p[2] * sy;
      var z = -p[0] * sy + p[2] * cy;
      var y = p[1] * cp - z * sp;
      var d = p[1] * sp + z * cp;
      var f = depth / (depth + d);
      return [cx + x * scale * f, cyy - y * scale * f];
    };
  }

  var segments = 0;
  function line(project, points, color, width, dash) {
    if (points.length < 2) return;
    ctx.beginPath();
    var a = project(points[0]);
    ctx.moveTo(a[0], a[1]);
    for (var i = 1; i < points.length; i++) {
      var b = project(points[i]);
      ctx.lineTo(b[0], b[1]);
      segments++;
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash || []);
    ctx.stroke();
  }

  function ring(r, z, n) {
    var pts = [];
    for (var i = 0; i <= n; i++) {
      var a = 2 * Math.PI * i / n;
      pts.push([r * Math.cos(a), r * Math.sin(a), z]);
    }
    return pts;
  }

  function drawDetector(project, ratio) {
    ctx.globalAlpha = 0.35;
    outlines.forEach(function (o) {
      line(project, ring(o.r, -o.z, 48), "#6f7f9f", ratio);
      line(project, ring(o.r, o.z, 48), "#6f7f9f", ratio);
      for (var k = 0; k < 8; k++) {
        var a = Math.PI * k / 4, x = o.r * Math.cos(a), y = o.r * Math.sin(a);
        line(project, [[x, y, -o.z], [x, y, o.z]], "#6f7f9f", 0.5 * ratio);
      }
    });
    line(project, [[0, 0, -11], [0, 0, 11]], "#8890a8", ratio, [4 * ratio, 4 * ratio]);
    ctx.globalAlpha = 1;
  }

  function drawJets(project, ratio) {
    data.jets.forEach(function (j) {
      var axis = direction(j.eta, j.phi);
      var length = jetLength(j);
      var tip = [axis[0] * length, axis[1] * length, axis[2] * length];
      // Two unit vectors across the axis span the cone's end circle.
      var u = Math.abs(axis[2]) < 0.9 ? [axis[1], -axis[0], 0] : [0, axis[2], -axis[1]];
      var nu = Math.hypot(u[0], u[1], u[2]);
      u = [u[0] / nu, u[1] / nu, u[2] / nu];
      var v = [axis[1] * u[2] - axis[2] * u[1], axis[2] * u[0] - axis[0] * u[2], axis[0] * u[1] - axis[1] * u[0]];
      var radius = length * Math.tan(Math.min(j.radius, 1.0));
      var circle = [];
      for (var i = 0; i <= 24; i++) {
        var a = 2 * Math.PI * i / 24, c = Math.cos(a) * radius, s = Math.sin(a) * radius;
        circle.push([tip[0] + u[0] * c + v[0] * s, tip[1] + u[1] * c + v[1] * s, tip[2] + u[2] * c + v[2] * s]);
      }
      ctx.globalAlpha = 0.12; // faint: the tracks inside must stay visible
      ctx.beginPath();
      var o = project([0, 0, 0]);
      circle.forEach(function (p, k) {
        var q = project(p);
        ctx.moveTo(o[0], o[1]);
        ctx.lineTo(q[0], q[1]);
        var r = project(circle[(k + 1) % circle.length]);
        ctx.lineTo(r[0], r[1]);
        ctx.closePath();
      });
      ctx.fillStyle = j.color;
      ctx.fill();
      ctx.globalAlpha = 0.9;
      line(project, circle, j.color, ratio);
      line(project, [[0, 0, 0], tip], j.color, ratio);
      ctx.globalAlpha = 1;
    });
  }

  function drawPhotons(project, ratio) {
    data.photons.forEach(function (p) {
      var d = direction(p.eta, p.phi);
      // Stop at the ECAL barrel or endcap face, whichever comes first.
      var rt = Math.hypot(d[0], d[1]);
      var t = Math.min(rt > 1e-6 ? ECAL_R / rt : 1e9, Math.abs(d[2]) > 1e-6 ? 3.15 / Math.abs(d[2]) : 1e9);
      var start = [d[0] * t, d[1] * t, d[2] * t];
      var end = [start[0] + d[0] * 0.35, start[1] + d[1] * 0.35, start[2] + d[2] * 0.35];
      line(project, [[0, 0, 0], start], p.color, ratio, [3 * ratio, 3 * ratio]);
      line(project, [start, end], p.color, 6 * ratio);
    });
  }

  function drawMet(project, ratio) {
    var m = data.met;
    if (!m) return;
    var length = Math.max(0.4, Math.min(m.pt / 40, 4));
    var tip = [length * Math.cos(m.phi), length * Math.sin(m.phi), 0];
    line(project, [[0, 0, 0], tip], m.color, 3 * ratio, [8 * ratio, 5 * ratio]);
    var back = 0.25 * Math.min(1, length), side = 0.12 * Math.min(1, length);
    var c = Math.cos(m.phi), s = Math.sin(m.phi);
    var head = [
      [tip[0] - back * c - side * s, tip[1] - back * s + side * c, 0], tip,
      [tip[0] - back * c + side * s, tip[1] - back * s - side * c, 0]
    ];
    line(project, head, m.color, 3 * ratio);
  }

  function drawAxes(ratio) {
    // A small x/y/z cross in the corner, turned with the event.
    var cy = Math.cos(state.yaw), sy = Math.sin(state.yaw);
    var cp = Math.cos(state.pitch), sp = Math.sin(state.pitch);
    var ox = 40 * ratio, oy = canvas.height - 40 * ratio, len = 26 * ratio;
    [[1, 0, 0, "x"], [0, 1, 0, "y"], [0, 0, 1, "z"]].forEach(function (a) {
      var x = a[0] * cy + a[2] * sy, z = -a[0] * sy + a[2] * cy, y = a[1] * cp - z * sp;
      ctx.beginPath();
      ctx.moveTo(ox, oy);
      ctx.lineTo(ox + x * len, oy - y * len);
      ctx.strokeStyle = data.foreground;
      ctx.lineWidth = ratio;
      ctx.setLineDash([]);
      ctx.stroke();
      ctx.fillStyle = data.foreground;
      ctx.font = 11 * ratio + "px sans-serif";
      ctx.fillText(a[3], ox + x * (len + 8 * ratio) - 3 * ratio, oy - y * (len + 8 * ratio) + 4 * ratio);
    });
  }

  function render() {
    resize();
    segments = 0;
    var ratio = canvas.width / 640;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = data.background;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    var project = projector();
    drawDetector(project, ratio);
    drawJets(project, ratio);
    data.tracks.forEach(function (t) {
      line(project, t.points, t.color, Math.max(1, t.width * 0.6) * ratio);
    });
    drawPhotons(project, ratio);
    drawMet(project, ratio);
    drawAxes(ratio);
    canvas.setAttribute("data-segments", String(segments));
  }

  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; render(); });
  }

  var drag = null;
  canvas.addEventListener("pointerdown", function (e) {
    drag = { x: e.clientX, y: e.clientY, yaw: state.yaw, pitch: state.pitch };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drag) return;
    state.yaw = drag.yaw + (e.clientX - drag.x) * 0.01;
    state.pitch = Math.max(-1.55, Math.min(1.55, drag.pitch + (e.clientY - drag.y) * 0.01));
    redraw();
  });
  canvas.addEventListener("pointerup", function () { drag = null; });
  canvas.addEventListener("pointercancel", function () { drag = null; });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    state.zoom = Math.max(0.2, Math.min(20, state.zoom * Math.exp(-e.deltaY * 0.001)));
    redraw();
  }, { passive: false });
  function setView(name) {
    var v = VIEWS[name] || VIEWS["3d"];
    state.yaw = v[0];
    state.pitch = v[1];
    state.zoom = 1;
    redraw();
  }
  canvas.addEventListener("dblclick", function () { setView("3d"); });
  // The keyboard does what the mouse does, once the canvas has focus (Tab reaches it):
  // arrows turn, + and - zoom, Home resets.
  canvas.addEventListener("keydown", function (e) {
    var turn = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] };
    if (turn[e.key]) {
      state.yaw += turn[e.key][0];
      state.pitch = Math.max(-1.55, Math.min(1.55, state.pitch + turn[e.key][1]));
    } else if (e.key === "+" || e.key === "=") {
      state.zoom = Math.min(20, state.zoom * 1.2);
    } else if (e.key === "-") {
      state.zoom = Math.max(0.2, state.zoom / 1.2);
    } else if (e.key === "Home") {
      setView("3d");
      e.preventDefault();
      return;
    } else {
      return;
    }
    e.preventDefault(); // arrows would scroll the page
    redraw();
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-view]"), function (b) {
    b.addEventListener("click", function () { setView(b.getAttribute("data-view")); });
  });
  window.addEventListener("resize", redraw);
  window.ispyView3d = { render: render, setView: setView, state: state };
  render();
})();
