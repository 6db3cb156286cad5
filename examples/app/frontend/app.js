// Lists and adds items through /api/items, and round-trips a message over /ws/echo.
async function loadItems() {
  const response = await fetch("/api/items");
  const items = await response.json();
  const list = document.getElementById("items");
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.textContent = `#${item.id} ${item.name}`;
    return li;
  }));
}

document.getElementById("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("name");
  await fetch("/api/items", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: input.value }),
  });
  input.value = "";
  await loadItems();
});

function openEcho() {
  const out = document.getElementById("ws");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/echo`);
  ws.onopen = () => ws.send(`hello at ${new Date().toISOString()}`);
  ws.onmessage = (event) => { out.textContent = `echoed: ${event.data}`; };
  ws.onerror = () => { out.textContent = "WebSocket failed"; };
}

loadItems();
openEcho();
