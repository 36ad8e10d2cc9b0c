import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /openapi.json` (the document kept in `assets/`) and `GET /docs` (a page that renders it).
struct DocsController {
    let openAPIDocument: ByteBuffer

    init() {
        openAPIDocument = ByteBuffer(bytes: EmbeddedAssets.openAPIDocument)
    }

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: openAPIDocument))
        }
        router.get("docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: Self.page)))
        }
    }

    /// Self-contained: renders the OpenAPI document without fetching anything from the internet.
    static let page = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>VoiceGate API</title>
    <style>
    body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
    code,pre{background:#f4f4f4;padding:.1rem .3rem;border-radius:3px}pre{padding:.6rem;overflow:auto}
    .op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
    .m{font-weight:bold;text-transform:uppercase;margin-right:.5rem}.get{color:#0a6}.post{color:#06c}
    table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:.2rem .6rem;text-align:left;vertical-align:top}
    </style></head><body>
    <h1 id="title">VoiceGate API</h1><p id="desc"></p><p><a href="/openapi.json">openapi.json</a></p><div id="ops"></div>
    <h2>Try it</h2>
    <form id="try"><p><label>X-API-Key <input name="key" size="48"></label></p>
    <p><label>text <input name="text" size="60" value="Hello from VoiceGate."></label></p>
    <p><label>language <input name="language" value="auto"></label> <label>speed <input name="speed" value="1.0" size="4"></label>
    <label>temperature <input name="temperature" value="0.7" size="4"></label></p>
    <p><label>reference_audio <input type="file" name="reference_audio" accept="audio/*"></label></p>
    <p><button>Synthesize</button> <span id="status"></span></p><audio id="player" controls></audio></form>
    <script>
    const esc=s=>String(s??'').replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
    fetch('/openapi.json').then(r=>r.json()).then(doc=>{
      document.getElementById('title').textContent=doc.info.title+' '+doc.info.version;
      document.getElementById('desc').textContent=doc.info.description||'';
      let html='';
      for(const [path,ops] of Object.entries(doc.paths)) for(const [m,op] of Object.entries(ops)){
        html+=`<div class="op"><p><span class="m ${m}">${m}</span><code>${esc(path)}</code> ${esc(op.summary)}</p><p>${esc(op.description)}</p>`;
        const schema=op.requestBody?.content?.['multipart/form-data']?.schema;
        if(schema){html+='<table><tr><th>field</th><th>type</th><th>about</th></tr>';
          for(const [n,p] of Object.entries(schema.properties)) html+=`<tr><td><code>${esc(n)}</code>${(schema.required||[]).includes(n)?' *':''}</td><td>${esc(p.type)}${p.format?' ('+esc(p.format)+')':''}</td><td>${esc(p.description)}</td></tr>`;
          html+='</table>';}
        html+='<table><tr><th>status</th><th>meaning</th></tr>';
        for(const [c,r] of Object.entries(op.responses)) html+=`<tr><td>${esc(c)}</td><td>${esc(r.description)}</td></tr>`;
        html+='</table></div>';}
      document.getElementById('ops').innerHTML=html;});
    document.getElementById('try').onsubmit=async e=>{e.preventDefault();const f=new FormData(e.target);const key=f.get('key');f.delete('key');
      const st=document.getElementById('status');st.textContent='…';
      const r=await fetch('/api/v1/voice/synthesize',{method:'POST',headers:{'X-API-Key':key},body:f});
      if(r.ok){document.getElementById('player').src=URL.createObjectURL(await r.blob());st.textContent='OK, '+r.headers.get('X-Audio-Duration')+' s';}
      else{const j=await r.json();st.textContent=r.status+' '+j.error+': '+j.message;}};
    </script></body></html>
    """
}
