// A table read on a phone: each row a card (wide.css .cards-phone), each cell named by its column.

/** Make `table` read as cards on a phone's screen (wide.css): its column headings are copied to
 * its cells (data-label, shown before the value), for the rows it has and for rows added later
 * (a list that loads more). A laptop keeps the table as it is. Returns the table. */
export function cardsOnPhone(table) {
  const heads = [...(table.tHead?.rows[0]?.cells || [])].map((c) => c.textContent.trim());
  const label = (tr) => [...tr.cells].forEach((c, i) => {
    if (c.tagName === "TD" && heads[i] && !c.dataset.label) c.dataset.label = heads[i];
  });
  table.classList.add("cards-phone");
  [...table.tBodies, ...(table.tFoot ? [table.tFoot] : [])].forEach((part) => [...part.rows].forEach(label));
  new MutationObserver((changes) => changes.forEach((change) => change.addedNodes.forEach((n) => {
    if (n.nodeName === "TR") label(n);
  }))).observe(table, { childList: true, subtree: true });
  return table;
}
