import cytoscape from 'cytoscape';
import { useEffect, useRef } from 'react';

export interface LineageNode {
  accountId: string;
  parentId: string;
  relation: 'created' | 'approved';
  depth: number;
  status: string;
}

/**
 * Who created and approved whom, from the account down: a tree drawn by Cytoscape. The canvas is
 * an image for a screen reader; the same nodes are listed in the table beside it.
 */
export function LineageGraph({
  rootId,
  nodes,
  label,
}: {
  rootId: string;
  nodes: LineageNode[];
  label: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const ids = new Set([rootId, ...nodes.map((n) => n.accountId), ...nodes.map((n) => n.parentId)]);
    const status = new Map(nodes.map((n) => [n.accountId, n.status]));
    const cy = cytoscape({
      container: ref.current,
      elements: [
        ...[...ids].map((id) => ({
          data: { id, label: id.slice(-8), status: status.get(id) ?? (id === rootId ? 'root' : 'other') },
        })),
        ...nodes.map((n) => ({
          data: {
            id: `${n.parentId}-${n.relation}-${n.accountId}`,
            source: n.parentId,
            target: n.accountId,
            relation: n.relation,
          },
        })),
      ],
      layout: { name: 'breadthfirst', directed: true, roots: [rootId], spacingFactor: 1.1 },
      style: [
        {
          selector: 'node',
          style: { label: 'data(label)', 'background-color': '#000091', color: '#161616', 'font-size': 11 },
        },
        { selector: 'node[status = "suspended"]', style: { 'background-color': '#ce0500' } },
        { selector: 'node[status = "pending_approval"]', style: { 'background-color': '#b34000' } },
        { selector: `node[id = "${rootId}"]`, style: { shape: 'diamond', 'background-color': '#161616' } },
        {
          selector: 'edge',
          style: {
            width: 2,
            'line-color': '#929292',
            'target-arrow-shape': 'triangle',
            'target-arrow-color': '#929292',
            'curve-style': 'bezier',
          },
        },
        { selector: 'edge[relation = "approved"]', style: { 'line-style': 'dashed' } },
      ],
      userZoomingEnabled: false,
      autoungrabify: true,
    });
    return () => cy.destroy();
  }, [rootId, nodes]);
  return <div ref={ref} className="vigie-lineage" role="img" aria-label={label} />;
}
