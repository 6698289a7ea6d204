// The dashboard's charts (templates/dashboard/index.html): reads the figures from the
// <script type="application/json" id="dashboard-data"> block, draws each with ECharts into its
// card, and toggles chart and table. A click on a bar, slice or point opens the list behind it.
// Without script the tables stay, with the same numbers and links.
(function () {
  var source = document.getElementById('dashboard-data');
  if (!source || typeof echarts === 'undefined') { return; }
  var charts = JSON.parse(source.textContent);
  var drawn = [];
  var small = window.matchMedia('(max-width: 576px)');

  function truncate(text, n) { return text.length > n ? text.slice(0, n - 1) + '…' : text; }

  function option(chart) {
    var series = chart.series.filter(function (s) { return !s.table_only; });
    var base = {
      animation: false,
      tooltip: { trigger: chart.type === 'pie' ? 'item' : 'axis', confine: true },
      legend: series.length > 1 ? { top: 0 } : undefined,
      grid: { left: 8, right: 24, top: series.length > 1 ? 36 : 24, bottom: 8, containLabel: true }
    };
    if (chart.type === 'pie') {
      base.legend = { type: 'scroll', bottom: 0 };
      base.series = [{
        type: 'pie', radius: small.matches ? ['30%', '60%'] : ['35%', '65%'], center: ['50%', '45%'],
        label: small.matches ? { position: 'inside', formatter: '{c}' } : { formatter: '{b}: {c}' },
        data: chart.categories.map(function (name, i) { return { name: name, value: series[0].data[i] }; })
      }];
      return base;
    }
    var horizontal = chart.type === 'bar' && chart.id !== 'by_month';
    var categoryAxis = { type: 'category', data: chart.categories,
      axisLabel: { formatter: function (v) { return truncate(v, horizontal ? 14 : 10); } } };
    var valueAxis = { type: 'value', minInterval: chart.type === 'line' ? 0 : 1 };
    if (horizontal) { categoryAxis.inverse = true; }
    base.xAxis = horizontal ? valueAxis : categoryAxis;
    base.yAxis = horizontal ? categoryAxis : valueAxis;
    base.series = series.map(function (s) {
      return { name: s.name, type: chart.type, data: s.data, barMaxWidth: 28,
               label: { show: chart.type === 'bar', position: horizontal ? 'right' : 'top' } };
    });
    return base;
  }

  function height(chart) {
    if (chart.type === 'bar' && chart.id !== 'by_month') { return Math.max(220, 34 * chart.categories.length + 60); }
    return 300;
  }

  function show(card, what) {
    var chartBox = card.querySelector('.dashboard-chart');
    var tableBox = card.querySelector('.dashboard-table');
    chartBox.hidden = what !== 'chart';
    tableBox.hidden = what !== 'table';
    card.querySelectorAll('[data-show]').forEach(function (button) {
      var on = button.getAttribute('data-show') === what;
      button.classList.toggle('active', on);
      button.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
  }

  charts.forEach(function (chart) {
    var card = document.querySelector('[data-chart="' + chart.id + '"]');
    if (!card) { return; }
    var box = card.querySelector('.dashboard-chart');
    card.querySelectorAll('[data-show]').forEach(function (button) {
      button.hidden = false;
      button.addEventListener('click', function () {
        show(card, button.getAttribute('data-show'));
        drawn.forEach(function (c) { c.resize(); });
      });
    });
    box.style.height = (chart.categories.length ? height(chart) : 120) + 'px';
    show(card, 'chart');
    var instance = echarts.init(box, null, { renderer: 'canvas' });
    if (chart.categories.length) {
      instance.setOption(option(chart));
    } else {     // nothing to draw: the table's sentence, on the canvas
      var empty = card.querySelector('[data-empty]');
      instance.setOption({ title: { text: empty ? empty.textContent : '', left: 'center', top: 'middle',
                                    textStyle: { fontSize: 14, fontWeight: 'normal', color: '#6c757d' } } });
    }
    var visible = chart.series.filter(function (s) { return !s.table_only; });
    instance.on('click', function (params) {
      var s = chart.type === 'pie' ? visible[0] : visible[params.seriesIndex];
      var link = s && s.links[params.dataIndex];
      if (link) { window.location.href = link; }
    });
    drawn.push(instance);
  });
  window.addEventListener('resize', function () { drawn.forEach(function (c) { c.resize(); }); });
}());
