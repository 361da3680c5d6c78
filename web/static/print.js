// /print/offline: issue a new offline code (the previous one stops being
// valid, as POST /v1/me/codes/offline does) and print it on an A6 card.
'use strict';

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var elder = suishen.elderWanted();
  var me = null;

  function notice(text) {
    $('notice').textContent = text;
    $('notice').hidden = !text;
  }

  async function make() {
    $('make').disabled = true;
    var img;
    try {
      img = await suishen.image('/v1/me/codes/offline');
    } catch (err) {
      $('make').disabled = false;
      notice(err.status === 401 ? '登录已失效，请从随申办应用重新进入。' : '暂时无法生成离线码，请稍后再试。');
      return;
    }
    notice('');
    var q = $('card-qr');
    q.dataset.code = img.code;
    $('card-name').textContent = me.masked_name;
    $('card-generation').textContent = img.generation || '1';
    $('card-date').textContent = suishen.day(new Date());
    $('card-expiry').textContent = isNaN(img.expiresAt) ? '' : suishen.day(new Date(Date.now() + img.expiresAt - img.serverNow));
    $('offline-card').hidden = false;
    $('again-row').hidden = false;
    $('intro').hidden = true;
    // Print once the code's image is drawn.
    q.addEventListener('load', function () {
      if (!navigator.webdriver) window.print();
    }, { once: true });
    q.src = img.url;
  }

  async function start() {
    document.body.classList.toggle('elder', elder);
    if (elder) document.querySelector('.back').href = '/me?elder=1';
    $('make').addEventListener('click', make);
    $('print-again').addEventListener('click', function () { window.print(); });
    try {
      me = await suishen.json('GET', '/v1/me');
    } catch (err) {
      notice(err.status === 401 ? '请从随申办应用进入后再打印离线码。' : '暂时无法连接服务，请稍后再试。');
      return;
    }
    $('intro').hidden = false;
  }

  start();
})();
