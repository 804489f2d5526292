// Renders every <figure class="chart"> on the page with Vega (inlined above this script) and
// gives it a PNG button. Sets data-rendered="true" (or "error") on each figure when done.
(function () {
  'use strict';
  var views = (window.subliminalCharts = window.subliminalCharts || {});

  function pngButton(figure, view) {
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'png';
    button.textContent = 'PNG';
    button.title = 'download this chart as PNG';
    button.addEventListener('click', function () {
      view
        .toImageURL('png', 2)
        .then(function (url) {
          var a = document.createElement('a');
          a.href = url;
          a.download = (document.body.dataset.run || 'chart') + '-' + figure.id + '.png';
          document.body.appendChild(a);
          a.click();
          a.remove();
        })
        .catch(function (e) {
          console.error('PNG export failed: ' + e.message);
        });
    });
    figure.querySelector('figcaption').prepend(button);
  }

  function renderChart(figure) {
    figure.dataset.rendered = 'pending';
    var target = figure.querySelector('.chart-view');
    try {
      var spec = JSON.parse(figure.querySelector('script[type="application/json"]').textContent);
      var view = new vega.View(vega.parse(spec), { renderer: 'svg', container: target, hover: true });
      return view.runAsync().then(
        function () {
          views[figure.id] = view;
          pngButton(figure, view);
          figure.dataset.rendered = 'true';
        },
        function (e) {
          fail(figure, target, e);
        },
      );
    } catch (e) {
      fail(figure, target, e);
      return Promise.resolve();
    }
  }

  function fail(figure, target, e) {
    figure.dataset.rendered = 'error';
    target.innerHTML = '';
    var p = document.createElement('p');
    p.className = 'problem';
    p.textContent = 'This chart could not be drawn: ' + (e && e.message ? e.message : e);
    target.appendChild(p);
  }

  window.renderCharts = function (root) {
    var figures = (root || document).querySelectorAll('figure.chart:not([data-rendered])');
    return Promise.all(Array.prototype.map.call(figures, renderChart));
  };
  if (typeof vega === 'undefined') {
    document.addEventListener('DOMContentLoaded', function () {
      document.querySelectorAll('figure.chart .chart-view').forEach(function (t) {
        t.innerHTML = '<p class="problem">The chart library did not load.</p>';
      });
    });
    return;
  }
  if (document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', function () {
      window.renderCharts(document);
    });
  else window.renderCharts(document);
})();
