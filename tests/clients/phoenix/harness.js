// Loads one event of ispyrender's Phoenix JSON with Phoenix's own loader (PhoenixLoader of
// phoenix-event-display) into Phoenix's own SceneManager, then reports what it built and draws
// it with a plain three.js renderer. Phoenix's ThreeManager and UIManager need Angular and a
// page of menus; the loader only asks them for a group per object type and for menu folders,
// which the two small stand-ins below give. Bundled by esbuild (see package.json "build").
import {
  Box3,
  Color,
  PerspectiveCamera,
  Vector3,
  WebGLRenderer,
} from 'three';
import { PhoenixLoader } from 'phoenix-event-display/dist/loaders/phoenix-loader.js';
import { SceneManager } from 'phoenix-event-display/dist/managers/three-manager/scene-manager.js';

const round = (v) => Math.round(v * 1000) / 1000;
const xyz = (v) => [round(v.x), round(v.y), round(v.z)];

// Every colour a drawn part of the object has: the materials' colours, and for tracks drawn
// with per-vertex colours the first vertex's colour.
function colours(object) {
  const found = new Set();
  object.traverse((part) => {
    const materials = [].concat(part.material || []);
    for (const material of materials) {
      if (material.color) found.add(material.color.getHexString());
      if (material.uniforms?.jetColor) found.add(material.uniforms.jetColor.value.getHexString());
    }
  });
  return [...found].sort();
}

// The end points of the object's line (tracks, MET), in world coordinates.
function lineEnds(object) {
  let ends = null;
  object.traverse((part) => {
    if (ends || !(part.isLine || part.isLineSegments)) return;
    const p = part.geometry.getAttribute('position');
    const first = new Vector3().fromBufferAttribute(p, 0);
    const last = new Vector3().fromBufferAttribute(p, p.count - 1);
    ends = [xyz(part.localToWorld(first)), xyz(part.localToWorld(last))];
  });
  return ends;
}

function describe(type, object) {
  object.updateWorldMatrix(true, true);
  const out = {
    name: object.name,
    colours: colours(object),
    position: xyz(object.getWorldPosition(new Vector3())),
  };
  const g = object.geometry;
  if (g?.type === 'CylinderGeometry') {
    // Phoenix's jet: a cone along local +y, its narrow end (radiusBottom) at -height/2.
    const h = g.parameters.height;
    const apex = object.localToWorld(new Vector3(0, -h / 2, 0));
    const tip = object.localToWorld(new Vector3(0, h / 2, 0));
    out.apex = xyz(apex);
    out.axis = xyz(tip.sub(apex).normalize());
    out.length = round(h);
  } else if (g?.type === 'BoxGeometry') {
    // Phoenix's calorimeter box: lookAt() turns its local +z towards the aim point.
    const d = g.parameters.depth;
    out.ends = [
      xyz(object.localToWorld(new Vector3(0, 0, d / 2))),
      xyz(object.localToWorld(new Vector3(0, 0, -d / 2))),
    ];
    out.depth = round(d);
    out.side = round(g.parameters.width);
  } else if (g?.type === 'SphereGeometry') {
    out.radius = round(g.parameters.radius);
  }
  const ends = lineEnds(object);
  if (ends) out.line = ends;
  return out;
}

let renderer = null;

/**
 * Load one Phoenix event object (the value under "Run R Event E") and describe the result:
 * { types: {type: {collection: [object, ...]}}, collections, metadata, menus, logs }.
 */
window.phoenixLoad = function phoenixLoad(eventData) {
  const sceneManager = new SceneManager([]);
  const graphics = {
    addEventDataTypeGroup: (typeName) => sceneManager.addEventDataTypeGroup(typeName),
    getSceneManager: () => sceneManager,
  };
  const menus = [];
  const ui = {
    addEventDataTypeFolder: () => {},
    addCollection: (typeName, collectionName, cuts) =>
      menus.push([typeName, collectionName, (cuts || []).map((c) => c.field)]),
    getUIMenus: () => [],
  };
  const logs = [];
  const infoLogger = { add: (text, kind) => logs.push(`${kind}: ${text}`) };

  const loader = new PhoenixLoader();
  loader.buildEventData(eventData, graphics, ui, infoLogger);

  const types = {};
  for (const typeGroup of sceneManager.getEventData().children) {
    types[typeGroup.name] = {};
    for (const collection of typeGroup.children) {
      types[typeGroup.name][collection.name] = collection.children.map((o) =>
        describe(typeGroup.name, o),
      );
    }
  }
  window.phoenixSceneManager = sceneManager;
  // A list of names up to 3.0.5; {type: names} from 4.0 on.
  const collections = loader.getCollections();
  return {
    types,
    collections: Array.isArray(collections) ? collections : Object.values(collections).flat(),
    metadata: loader.getEventMetadata(),
    menus,
    logs,
  };
};

/**
 * Draw the loaded scene on a canvas filling the page: background colour (CSS), camera
 * direction (unit vector from the target towards the camera), the box to frame (mm) and the
 * object types to leave out (as Phoenix's menu hides them).
 */
window.phoenixDraw = function phoenixDraw(background, direction, frame, hidden = []) {
  const width = window.innerWidth;
  const height = window.innerHeight;
  if (!renderer) {
    renderer = new WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    document.body.appendChild(renderer.domElement);
  }
  renderer.setSize(width, height);
  renderer.setClearColor(new Color(background));
  const box = new Box3(new Vector3(...frame[0]), new Vector3(...frame[1]));
  const centre = box.getCenter(new Vector3());
  const size = box.getSize(new Vector3()).length();
  const camera = new PerspectiveCamera(30, width / height, size / 100, size * 10);
  camera.position.copy(centre).addScaledVector(new Vector3(...direction).normalize(), size * 1.6);
  camera.up.set(0, 1, 0);
  camera.lookAt(centre);
  // Phoenix keeps a light at the camera.
  const sceneManager = window.phoenixSceneManager;
  const scene = sceneManager.getScene();
  const light = scene.children.find((c) => c.isDirectionalLight);
  if (light) light.position.copy(camera.position);
  for (const group of sceneManager.getEventData().children) {
    group.visible = !hidden.includes(group.name);
  }
  renderer.render(scene, camera);
  return [width, height];
};
