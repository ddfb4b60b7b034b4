// ispyrender's offline event viewer: the source of viewer.min.js (see build.sh).
//
// The page carries everything: the event as a base64 GLB in <script id="event-glb">, the
// settings in <script id="event-config">, and this script bundled with three.js. Nothing is
// fetched, so the page opens from file:// and from an e-mail attachment alike.
import {
  Box3,
  Color,
  DirectionalLight,
  HemisphereLight,
  PerspectiveCamera,
  Scene,
  Vector3,
  WebGLRenderer,
} from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

function decodeBase64(text) {
  const raw = atob(text.trim());
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes.buffer;
}

function fail(message) {
  // Tests read console errors; the page shows the same line to a person.
  console.error('ispyrender viewer: ' + message);
  const box = document.getElementById('status');
  if (box) box.textContent = message;
}

function start() {
  const config = JSON.parse(document.getElementById('event-config').textContent);
  const holder = document.getElementById('viewer');
  const renderer = new WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(window.devicePixelRatio || 1);
  renderer.setSize(holder.clientWidth, holder.clientHeight);
  // Reachable with Tab, and named for screen readers; the keys are OrbitControls' own.
  renderer.domElement.tabIndex = 0;
  renderer.domElement.setAttribute('role', 'img');
  renderer.domElement.setAttribute('aria-label', config.label || '3D view of the event');
  holder.appendChild(renderer.domElement);

  const scene = new Scene();
  scene.background = new Color(config.background);
  const camera = new PerspectiveCamera(30, holder.clientWidth / holder.clientHeight, 0.01, 200);
  // Light from the sky and from the viewer's shoulder, so that surfaces keep their shape
  // from every angle the user turns to.
  scene.add(new HemisphereLight(0xffffff, 0x555555, 2.0));
  const headlight = new DirectionalLight(0xffffff, 1.5);
  camera.add(headlight);
  headlight.position.set(1, 1, 2);
  scene.add(camera);

  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = false;
  controls.listenToKeyEvents(renderer.domElement); // arrows pan; with Shift they rotate
  const draw = () => renderer.render(scene, camera);
  // Draw on demand instead of every frame: an idle page costs no CPU.
  controls.addEventListener('change', draw);
  window.addEventListener('resize', () => {
    camera.aspect = holder.clientWidth / holder.clientHeight;
    camera.updateProjectionMatrix();
    renderer.setSize(holder.clientWidth, holder.clientHeight);
    draw();
  });

  const loader = new GLTFLoader();
  const unreadable = (error) =>
    fail('cannot read the event model: ' + (error && error.message ? error.message : error));
  let glb;
  try {
    glb = decodeBase64(document.getElementById('event-glb').textContent);
  } catch (error) {
    unreadable(error);
    return;
  }
  // GLTFLoader reports some bad input by throwing and some through the callback: both end
  // in the same message.
  try {
    loader.parse(
    glb,
    '',
    (gltf) => {
      const model = gltf.scene;
      scene.add(model);
      // Frame the detector: its extent is what the user recognises; the event sits inside.
      // The forward calorimeter, 2 m beyond the muon endcaps on the beam line, is left out of
      // the frame (as in the PNGs): it would shrink the rest of CMS.
      const forward = model.getObjectByName('hcal_forward');
      const holder = forward ? forward.parent : null;
      if (forward) forward.removeFromParent();
      const box = new Box3().setFromObject(model);
      if (forward && holder) holder.add(forward);
      const size = box.getSize(new Vector3()).length();
      const centre = box.getCenter(new Vector3());
      controls.target.copy(centre);
      // iSpy's 3D view: from the front, a little above and to the side, far enough for the
      // bounding sphere to nearly fill the height (the corners may leave the frame).
      const fov = (camera.fov * Math.PI) / 180;
      const distance = (0.75 * (size / 2)) / Math.sin(fov / 2);
      const direction = new Vector3(0.75, 0.45, 1.0).normalize();
      camera.position.copy(centre).add(direction.multiplyScalar(distance));
      camera.near = size / 1000;
      camera.far = size * 10;
      camera.updateProjectionMatrix();
      controls.update();
      buildToggles(model, draw);
      draw();
      document.body.dataset.ready = '1';
    },
    unreadable,
    );
  } catch (error) {
    unreadable(error);
  }
}

function buildToggles(model, draw) {
  // One checkbox per named part to hide and show it: the event's collections ("Muon", ...)
  // and, indented under "detector", each detector part ("ecal_barrel", ...).
  const list = document.getElementById('parts');
  if (!list) return;
  const add = (node, indent) => {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = true;
    box.addEventListener('change', () => {
      node.visible = box.checked;
      draw();
    });
    if (indent) label.style.paddingLeft = '1.2em';
    label.appendChild(box);
    label.appendChild(document.createTextNode(' ' + node.name));
    list.appendChild(label);
  };
  for (const node of model.children) {
    add(node, false);
    if (node.name === 'detector') for (const part of node.children) add(part, true);
  }
}

try {
  start();
} catch (error) {
  fail(error && error.message ? error.message : String(error));
}
