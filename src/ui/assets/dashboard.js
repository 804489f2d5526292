// The dashboard: a hash-routed page over the JSON API of `subliminal ui`.
//   #/                 runs list (status, headline; pick two to compare)
//   #/run/NAME         a run: live progress while it runs, then its report sections and artifacts
//   #/compare/A/B      two runs side by side (spec differences, results, trait-rate charts)
//   #/model/ID         a model: lineage, children, evaluations with sampled answers
//   #/dataset/ID       a dataset: rows page by page with each row's filter verdict
(function () {
  'use strict';
  var app = document.getElementById('app');
  var poll = null;

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function enc(s) {
    return encodeURIComponent(s);
  }
  function pct(e, d) {
    return e && Number.isFinite(e.mean)
      ? e.mean.toFixed(d || 3) +
          ' [' +
          (Number.isFinite(e.lo) ? e.lo.toFixed(d || 3) : '-') +
          ', ' +
          (Number.isFinite(e.hi) ? e.hi.toFixed(d || 3) : '-') +
          '] n=' +
          e.n
      : '';
  }
  function problems(list) {
    if (!list || !list.length) return '';
    return (
      '<div class="problems" role="alert"><strong>Some of this could not be read:</strong><ul>' +
      list
        .map(function (p) {
          return '<li>' + esc(p.message || p) + '</li>';
        })
        .join('') +
      '</ul></div>'
    );
  }
  function fail(message) {
    app.innerHTML =
      '<div class="problems" role="alert"><strong>' +
      esc(message) +
      '</strong></div><p><a href="#/">back to the runs</a></p>';
  }

  function api(path) {
    return fetch(path).then(
      function (r) {
        return r.text().then(function (text) {
          var body;
          try {
            body = JSON.parse(text);
          } catch (e) {
            throw new Error('the server sent something that is not JSON (HTTP ' + r.status + ')', { cause: e });
          }
          if (!r.ok) throw new Error(body.error || 'HTTP ' + r.status);
          return body;
        });
      },
      function () {
        throw new Error('cannot reach the dashboard server; is "subliminal ui" still running?');
      },
    );
  }

  function linkList(links) {
    if (!links.length) return '<p class="note">none</p>';
    return (
      '<ul>' +
      links
        .map(function (l) {
          var href =
            l.kind === 'model' ? '#/model/' + enc(l.id) : l.kind === 'dataset' ? '#/dataset/' + enc(l.id) : null;
          return (
            '<li>' +
            esc(l.relation) +
            ': ' +
            (href ? '<a href="' + href + '">' + esc(l.name) + '</a>' : esc(l.name)) +
            ' <span class="note mono">' +
            esc(l.id) +
            (l.run ? ' (run ' + esc(l.run) + ')' : '') +
            '</span></li>'
          );
        })
        .join('') +
      '</ul>'
    );
  }
  function ancestry(generations) {
    if (!generations.length) return '<p class="note">no recorded parents (a root of the graph)</p>';
    return generations
      .map(function (g, i) {
        return '<h3>' + (i === 0 ? 'parents' : 'generation ' + (i + 1) + ' up') + '</h3>' + linkList(g);
      })
      .join('');
  }

  // ---- runs list
  function runsPage() {
    return api('/api/runs').then(function (body) {
      document.getElementById('store').textContent = body.store;
      var rows = body.runs
        .map(function (r) {
          return (
            '<tr class="clickable run-row" data-run="' +
            esc(r.name) +
            '"><td><input type="checkbox" class="pick" value="' +
            esc(r.name) +
            '" aria-label="compare ' +
            esc(r.name) +
            '"></td>' +
            '<td><a class="run-link" href="#/run/' +
            enc(r.name) +
            '">' +
            esc(r.name) +
            '</a></td><td>' +
            esc(r.kind) +
            '</td><td class="status-' +
            esc(r.status) +
            '">' +
            esc(r.status) +
            '</td>' +
            '<td class="mono">' +
            esc(r.updated_at.slice(0, 19).replace('T', ' ')) +
            '</td><td class="headline" title="' +
            esc(r.headline) +
            '">' +
            esc(r.headline) +
            '</td></tr>'
          );
        })
        .join('');
      app.innerHTML =
        '<section><h2>runs (' +
        body.runs.length +
        ')</h2>' +
        '<p><input id="run-filter" placeholder="filter by name" aria-label="filter runs"> <button id="compare" ' +
        'disabled>compare two selected</button></p>' +
        (body.runs.length
          ? '<table ' +
            'id="runs"><thead><tr><th></th><th>run</th><th>kind</th><th>status</th><th>updated</th><th>headline ' +
            '(first teacher: ratio to its control, one-sided p)</th></tr></thead><tbody>' +
            rows +
            '</tbody></table>'
          : '<p class="note">No runs yet. Start one with <code>npx subliminal demo</code>.</p>') +
        '</section>';
      var filter = document.getElementById('run-filter');
      filter.addEventListener('input', function () {
        var q = filter.value.toLowerCase();
        app.querySelectorAll('tr.run-row').forEach(function (tr) {
          tr.hidden = q && tr.dataset.run.toLowerCase().indexOf(q) < 0;
        });
      });
      var button = document.getElementById('compare');
      app.addEventListener('change', function () {
        button.disabled = app.querySelectorAll('input.pick:checked').length !== 2;
      });
      button.addEventListener('click', function () {
        var picked = Array.prototype.map.call(app.querySelectorAll('input.pick:checked'), function (c) {
          return c.value;
        });
        location.hash = '#/compare/' + enc(picked[0]) + '/' + enc(picked[1]);
      });
      app.querySelectorAll('tr.run-row').forEach(function (tr) {
        tr.addEventListener('click', function (e) {
          if (e.target.tagName !== 'INPUT' && e.target.tagName !== 'A') location.hash = '#/run/' + enc(tr.dataset.run);
        });
      });
    });
  }

  // ---- one run
  function progressHtml(p, status) {
    if (!p || !p.tasks.length) return '';
    var age = (Date.now() - Date.parse(p.updatedAt)) / 1000;
    var stale =
      status === 'running' && age > 120
        ? ' <span class="problem">(no update for ' + Math.round(age) + ' s: the process may have stopped)</span>'
        : '';
    var tasks = p.tasks.slice().sort(function (a, b) {
      return (a.status === 'running' ? 0 : 1) - (b.status === 'running' ? 0 : 1);
    });
    var rows =
      '<table><tbody>' +
      tasks
        .map(function (t) {
          var f = t.total ? Math.min(1, t.done / t.total) : t.status === 'done' ? 1 : 0;
          return (
            '<tr class="task task-' +
            esc(t.status) +
            '"><td>' +
            esc(t.label) +
            '</td><td><span class="bar"><span style="width:' +
            (f * 100).toFixed(1) +
            '%"></span></span></td><td class="mono">' +
            esc(t.total ? t.done + '/' + t.total : '') +
            '</td><td class="status-' +
            esc(t.status) +
            '">' +
            esc(t.status) +
            '</td></tr>'
          );
        })
        .join('') +
      '</tbody></table>';
    if (status === 'running' || status === 'failed')
      return '<section id="progress"><h2>progress' + stale + '</h2>' + rows + '</section>';
    // a finished run: its stages fold away below the results
    var starts = p.tasks.map(function (t) {
      return Date.parse(t.startedAt);
    });
    var wall = (Date.parse(p.updatedAt) - Math.min.apply(null, starts)) / 1000;
    return (
      '<section><details id="progress"><summary>' +
      p.tasks.length +
      ' stages ' +
      esc(status) +
      (wall > 0 ? ' in ' + Math.round(wall) + ' s (show)' : ' (show)') +
      '</summary>' +
      rows +
      '</details></section>'
    );
  }
  function artifactsHtml(list) {
    var links = function (kind) {
      return list
        .filter(function (a) {
          return a.kind === kind;
        })
        .map(function (a) {
          return (
            '<li><a class="' +
            kind +
            '-link" href="#/' +
            kind +
            '/' +
            enc(a.id) +
            '">' +
            esc(a.name) +
            '</a> <span class="note mono">' +
            esc(a.id) +
            '</span></li>'
          );
        })
        .join('');
    };
    return (
      '<section id="artifacts"><h2>models and datasets</h2><div class="columns"><div><h3>models</h3><ul>' +
      links('model') +
      '</ul></div><div><h3>datasets</h3><ul>' +
      links('dataset') +
      '</ul></div></div></section>'
    );
  }
  function runPage(name) {
    var hash = location.hash;
    var busy = false;
    function render() {
      return api('/api/runs/' + enc(name)).then(function (r) {
        app.innerHTML =
          '<h2>run ' +
          esc(r.run) +
          ' <span class="status-' +
          esc(r.status) +
          '">' +
          esc(r.status) +
          '</span></h2>' +
          '<p class="note">' +
          esc(r.kind) +
          ' run' +
          (r.updated ? ', updated ' + esc(r.updated.slice(0, 19).replace('T', ' ')) : '') +
          ' | <a href="/runs/' +
          enc(r.run) +
          '/report.html" target="_blank">report.html</a></p>' +
          problems(r.problems) +
          (r.status === 'running' ? progressHtml(r.progress, r.status) || '<div id="progress"></div>' : '') +
          r.sections
            .map(function (s) {
              return s.html;
            })
            .join('') +
          (r.status === 'running' ? '' : progressHtml(r.progress, r.status)) +
          artifactsHtml(r.artifacts);
        return window.renderCharts(app).then(function () {
          return r;
        });
      });
    }
    // while the run is going, poll only its status and progress; the whole page once it ends
    function refresh() {
      if (busy || location.hash !== hash) return;
      busy = true;
      api('/api/runs/' + enc(name) + '/progress')
        .then(function (p) {
          if (location.hash !== hash) return;
          if (p.status !== 'running') {
            clearInterval(poll);
            poll = null;
            return render();
          }
          var old = document.getElementById('progress');
          if (old) old.outerHTML = progressHtml(p.progress, p.status) || '<div id="progress"></div>';
        })
        .catch(function () {})
        .then(function () {
          busy = false;
        });
    }
    return render().then(function (r) {
      if (r.status === 'running') poll = setInterval(refresh, 1000);
    });
  }

  // ---- two runs side by side
  function flatten(obj, prefix, out) {
    Object.keys(obj || {}).forEach(function (k) {
      var v = obj[k];
      var key = prefix ? prefix + '.' + k : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
      else out[key] = JSON.stringify(v);
    });
    return out;
  }
  function comparePage(a, b) {
    return Promise.all([api('/api/runs/' + enc(a)), api('/api/runs/' + enc(b))]).then(function (res) {
      var keep = ['results', 'trait-rate', 'trait-exact', 'mnist', 'mnist-table', 'number-tests', 'filters'];
      var column = function (r) {
        return (
          '<div class="compare-col"><h2><a href="#/run/' +
          enc(r.run) +
          '">' +
          esc(r.run) +
          '</a> <span class="status-' +
          esc(r.status) +
          '">' +
          esc(r.status) +
          '</span></h2>' +
          problems(r.problems) +
          r.sections
            .filter(function (s) {
              return keep.indexOf(s.id) >= 0;
            })
            .map(function (s) {
              return s.html.replace(/id="/g, 'id="' + esc(r.run) + '-');
            })
            .join('') +
          '</div>'
        );
      };
      var fa = flatten(res[0].spec, '', {});
      var fb = flatten(res[1].spec, '', {});
      var keys = Object.keys(fa)
        .concat(
          Object.keys(fb).filter(function (k) {
            return !(k in fa);
          }),
        )
        .filter(function (k) {
          return fa[k] !== fb[k];
        });
      var diff = keys.length
        ? '<table id="diff"><thead><tr><th>field</th><th>' +
          esc(a) +
          '</th><th>' +
          esc(b) +
          '</th></tr></thead><tbody>' +
          keys
            .map(function (k) {
              return (
                '<tr><td class="mono">' +
                esc(k) +
                '</td><td class="mono">' +
                esc(fa[k]) +
                '</td><td class="mono">' +
                esc(fb[k]) +
                '</td></tr>'
              );
            })
            .join('') +
          '</tbody></table>'
        : '<p class="note" id="diff">the two specs are the same</p>';
      app.innerHTML =
        '<section id="spec-diff"><h2>spec differences</h2>' +
        diff +
        '</section><div class="columns">' +
        column(res[0]) +
        column(res[1]) +
        '</div>';
      return window.renderCharts(app);
    });
  }

  // ---- a model
  function modelPage(id) {
    return api('/api/models/' + enc(id)).then(function (m) {
      var evals = m.evaluations
        .map(function (e) {
          return (
            '<section class="evaluation"><h3>' +
            esc(e.name) +
            '</h3><p>"' +
            esc(e.animal) +
            '" rate ' +
            esc(pct(e.rate)) +
            ' (questions); exact P(' +
            esc(e.animal) +
            ') ' +
            esc(pct(e.firstToken, 4)) +
            '; ' +
            esc(e.samples) +
            ' samples</p>' +
            '<p>top answers: ' +
            e.topAnswers
              .map(function (t) {
                return esc(t[0]) + ' ' + (t[1] * 100).toFixed(1) + '%';
              })
              .join(', ') +
            '</p>' +
            '<table class="examples"><thead><tr><th>question</th><th>sampled answer</th></tr></thead><tbody>' +
            e.examples
              .map(function (x) {
                return '<tr><td>' + esc(x.question) + '</td><td>' + esc(x.reply) + '</td></tr>';
              })
              .join('') +
            '</tbody></table></section>'
          );
        })
        .join('');
      app.innerHTML =
        artifactHead('model', m.artifact, '') +
        problems(m.problems) +
        metadataSection(m.meta) +
        '<section id="lineage"><h2>lineage</h2>' +
        ancestry(m.ancestry) +
        '<h3>children</h3>' +
        linkList(m.children) +
        '</section>' +
        '<section><h2>evaluations</h2>' +
        (evals || '<p class="note">not evaluated</p>') +
        '</section>' +
        auditSection(m);
    });
  }

  // the audits a student can be put through, as commands to copy (they write into the run, and report.html shows them)
  function auditSection(m) {
    var a = m.artifact;
    var match = /^student-(.+)-on-([^-]+)-\d+$/.exec(a.name);
    if (!match) return '';
    var trait = (m.evaluations[0] && m.evaluations[0].animal) || 'ANIMAL';
    var group = match[1] + ' -> ' + match[2];
    var cmds = [
      'npx subliminal audit student ' + a.run + '/' + a.name + ' --trait ' + trait,
      'npx subliminal audit localise ' + a.run + " --group '" + group + "'",
      'npx subliminal audit repair ' + a.run + " --group '" + group + "'",
      'npx subliminal audit scrub ' + a.run + " --group '" + group + "'",
      "# and over generations (this group's first student teaching the next): add to the run's spec",
      '#   generations: { count: 3, teacher: ' + match[1].replace(/-gen\d+$/, '') + ' }',
      '# then run it again (docs/generations.md)',
    ];
    return (
      '<section id="audit-student"><h2>audit this student</h2><p class="note">behaviour, lineage and parameters in ' +
      "one verdict; where its group's trait lives; surgeries to cut it out; whether a scrubbed trait resurfaces " +
      '(docs/localise-repair.md); whether it survives generations:</p><pre class="spec">' +
      esc(cmds.join('\n')) +
      '</pre></section>'
    );
  }

  // the top of a model's or a dataset's page: its name, id, run and path
  function artifactHead(kind, a, extra) {
    var run = ' | run <a href="#/run/' + enc(a.run) + '">' + esc(a.run) + '</a> | ';
    return (
      '<h2>' + kind + ' ' + esc(a.name) + '</h2><p class="note mono">' + esc(a.id) + run + esc(a.path) + extra + '</p>'
    );
  }
  function metadataSection(meta) {
    return '<section><h2>metadata</h2><pre class="spec">' + esc(JSON.stringify(meta, null, 2)) + '</pre></section>';
  }

  // ---- a dataset
  function datasetPage(id, query) {
    var offset = Number(query.offset || 0);
    var filter = query.filter || 'all';
    return api('/api/datasets/' + enc(id) + '?offset=' + offset + '&limit=50&filter=' + enc(filter)).then(function (d) {
      var nav = function (o) {
        return '#/dataset/' + enc(id) + '?offset=' + Math.max(0, o) + '&filter=' + enc(filter);
      };
      var rows = d.rows
        .map(function (r) {
          return (
            '<tr class="data-row"><td class="mono">' +
            r.i +
            '</td><td>' +
            esc(r.prompt) +
            '</td><td class="mono">' +
            esc(r.completion) +
            '</td><td class="verdict">' +
            esc(r.verdict) +
            '</td></tr>'
          );
        })
        .join('');
      app.innerHTML =
        artifactHead('dataset', d.artifact, ' | sha256 ' + esc(d.artifact.content_hash.slice(0, 16))) +
        problems(d.problems) +
        metadataSection(d.meta) +
        '<section id="lineage"><h2>lineage</h2>' +
        ancestry(d.ancestry) +
        '<h3>children</h3>' +
        linkList(d.children) +
        '</section>' +
        '<section id="rows"><h2>rows ' +
        (d.matching ? d.offset + 1 : 0) +
        '-' +
        (d.offset + d.rows.length) +
        ' of ' +
        d.matching +
        (d.matching !== d.total ? ' (' + d.total + ' in all)' : '') +
        '</h2>' +
        '<p>show <select id="row-filter"><option value="all">all rows</option><option value="kept">rows that ' +
        'pass</option><option value="rejected">rejected rows</option></select> ' +
        (d.offset > 0 ? '<a href="' + nav(d.offset - d.limit) + '">previous</a> ' : '') +
        (d.offset + d.rows.length < d.matching ? '<a id="next" href="' + nav(d.offset + d.limit) + '">next</a>' : '') +
        '</p>' +
        '<table><thead><tr><th>#</th><th>prompt</th><th>completion</th><th>filter verdict</th></tr></thead><tbody>' +
        rows +
        '</tbody></table></section>';
      var select = document.getElementById('row-filter');
      select.value = filter;
      select.addEventListener('change', function () {
        location.hash = '#/dataset/' + enc(id) + '?offset=0&filter=' + enc(select.value);
      });
    });
  }

  function route() {
    if (poll) {
      clearInterval(poll);
      poll = null;
    }
    var hash = location.hash.replace(/^#\/?/, '');
    var q = {};
    var at = hash.indexOf('?');
    if (at >= 0) {
      hash
        .slice(at + 1)
        .split('&')
        .forEach(function (kv) {
          var p = kv.split('=');
          q[decodeURIComponent(p[0])] = decodeURIComponent(p[1] || '');
        });
      hash = hash.slice(0, at);
    }
    var parts = hash.split('/').map(decodeURIComponent);
    var page =
      parts[0] === 'run' && parts[1]
        ? runPage(parts[1])
        : parts[0] === 'compare' && parts[2]
          ? comparePage(parts[1], parts[2])
          : parts[0] === 'model' && parts[1]
            ? modelPage(parts[1])
            : parts[0] === 'dataset' && parts[1]
              ? datasetPage(parts[1], q)
              : runsPage();
    window.scrollTo(0, 0);
    app.setAttribute('aria-busy', 'true');
    page.then(
      function () {
        app.setAttribute('aria-busy', 'false');
        document.body.dataset.page = parts[0] || 'runs';
      },
      function (e) {
        fail(e.message);
        app.setAttribute('aria-busy', 'false');
        document.body.dataset.page = 'error';
      },
    );
  }
  window.addEventListener('hashchange', route);
  route();
})();
