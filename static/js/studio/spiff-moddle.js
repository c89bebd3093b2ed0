// The spiffworkflow moddle package, extended per diagram so nothing is lost on save.
//
// moddle drops any element of a known namespace whose type it does not know. SpiffArena
// keeps adding extension elements, so for every spiffworkflow tag in the file that our
// descriptor does not describe we add a generic type that keeps its attributes, text and
// children as they are.

import descriptor from './spiffworkflow.json';

export const SPIFF_URI = descriptor.uri;

const lowerFirst = (name) => name.charAt(0).toLowerCase() + name.slice(1);
const upperFirst = (name) => name.charAt(0).toUpperCase() + name.slice(1);
const KNOWN = new Set(descriptor.types.filter((t) => !t.extends).map((t) => lowerFirst(t.name)));

export function spiffDescriptorFor(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const unknown = new Set();
  for (const node of doc.getElementsByTagNameNS(SPIFF_URI, '*')) {
    if (!KNOWN.has(node.localName)) {
      unknown.add(node.localName);
    }
  }
  if (!unknown.size) {
    return descriptor;
  }
  const generic = [...unknown].map((tag) => ({
    name: upperFirst(tag),
    superClass: ['Element'],
    properties: [
      { name: 'values', type: 'Element', isMany: true },
      { name: 'value', type: 'String', isBody: true },
    ],
  }));
  return { ...descriptor, types: [...descriptor.types, ...generic] };
}
