// The example frontend: lists, adds and deletes items through the FastAPI app's /api/items, shows
// which protocol the page came over, and round-trips a message over the /ws/echo WebSocket. The
// files come from fairlead's static route; every /api/ and /ws/ request goes through fairlead to
// the app.
import { useEffect, useState } from "react";

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Content-Type": "application/json", ...(options.headers || {}) },
  });
  if (!response.ok) throw new Error(`${options.method || "GET"} ${path}: ${response.status}`);
  return response.status === 204 ? null : response.json();
}

function Items() {
  const [items, setItems] = useState([]);
  const [name, setName] = useState("");
  const [error, setError] = useState("");

  const load = () => api("/api/items").then(setItems, (e) => setError(e.message));
  useEffect(() => { load(); }, []);

  const add = async (event) => {
    event.preventDefault();
    try {
      await api("/api/items", { method: "POST", body: JSON.stringify({ name }) });
      setName("");
      await load();
    } catch (e) {
      setError(e.message);
    }
  };
  const remove = async (id) => {
    try {
      await api(`/api/items/${id}`, { method: "DELETE" });
      await load();
    } catch (e) {
      setError(e.message);
    }
  };

  return (
    <section>
      <h2>Items</h2>
      <form onSubmit={add}>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="new item" required />
        <button>Add</button>
      </form>
      {error && <p className="error">{error}</p>}
      <ul id="items">
        {items.map((item) => (
          <li key={item.id}>
            #{item.id} {item.name}
            <button onClick={() => remove(item.id)} aria-label={`delete ${item.name}`}>×</button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Echo() {
  const [text, setText] = useState("connecting…");
  useEffect(() => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/echo`);
    ws.onopen = () => ws.send(`hello at ${new Date().toISOString()}`);
    ws.onmessage = (event) => setText(`echoed: ${event.data}`);
    ws.onerror = () => setText("WebSocket failed");
    return () => ws.close();
  }, []);
  return (
    <section>
      <h2>WebSocket echo</h2>
      <pre id="ws">{text}</pre>
    </section>
  );
}

export default function App() {
  return (
    <main>
      <h1>fairlead example</h1>
      <p>This page came over {location.protocol === "https:" ? "HTTPS" : "plain HTTP"} from fairlead.</p>
      <Items />
      <Echo />
    </main>
  );
}
