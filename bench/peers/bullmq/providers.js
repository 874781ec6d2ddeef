'use strict';
const fs = require('node:fs');
const path = require('node:path');
// The provider calls of an order.canceled job, as Rescind makes them (clients/*.cpp,
// jobs/messages.cpp): the same URLs, wire formats, headers and test credentials
// (common/sandbox_credentials.hpp, read at start-up), so the sandbox validates and ledgers both alike.
// Plan (jobs/plan.cpp): refund if paid, then email, SMS and staff alert concurrently,
// each only if the job's `notify` asks for it.

// Read from the header at start-up, so the two can never drift apart.
const credentialsHeader = path.join(__dirname, '..', '..', '..', 'common', 'sandbox_credentials.hpp');

function loadCredentials(file = credentialsHeader) {
  const text = fs.readFileSync(file, 'utf8');
  const values = {};
  for (const m of text.matchAll(/constexpr\s+std::string_view\s+(\w+)\s*=\s*"([^"]*)"/g)) values[m[1]] = m[2];
  const need = (name) => {
    if (!(name in values)) throw new Error(`${file} defines no ${name}`);
    return values[name];
  };
  return {
    stripeApiKey: need('stripe_api_key'),
    sendgridApiKey: need('sendgrid_api_key'),
    sendgridFrom: need('sendgrid_from'),
    sendgridFromName: 'Rescind', // the worker's --email-from-name default
    twilioAccountSid: need('twilio_account_sid'),
    twilioAuthToken: need('twilio_auth_token'),
    twilioFrom: need('twilio_from'),
    slackWebhookPath: need('slack_webhook_path'),
  };
}

const credentials = loadCredentials();

// Minor-unit exponents of the currencies that differ from 2 (jobs/money.cpp).
const exponents = {
  BHD: 3, BIF: 0, CLF: 4, CLP: 0, DJF: 0, GNF: 0, IQD: 3, ISK: 0, JOD: 3, JPY: 0, KMF: 0,
  KRW: 0, KWD: 3, LYD: 3, OMR: 3, PYG: 0, RWF: 0, TND: 3, UGX: 0, VND: 0, VUV: 0, XAF: 0,
  XOF: 0, XPF: 0,
};

function formatMinor(minor, currency) {
  const exponent = exponents[currency] ?? 2;
  const negative = minor < 0;
  let digits = String(Math.abs(minor));
  if (exponent > 0) {
    if (digits.length <= exponent) digits = '0'.repeat(exponent + 1 - digits.length) + digits;
    digits = digits.slice(0, digits.length - exponent) + '.' + digits.slice(digits.length - exponent);
  }
  return negative ? '-' + digits : digits;
}

// application/x-www-form-urlencoded exactly as clients/encoding.cpp writes it.
function formEncode(fields) {
  const encode = (text) =>
    String(text).replace(/[^A-Za-z0-9\-_.~]/g, (c) =>
      Array.from(Buffer.from(c, 'utf8'), (b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''));
  return fields.map(([k, v]) => encode(k) + '=' + encode(v)).join('&');
}

function orderLabel(job) {
  return job.order.name || job.order.id;
}

function refundAmount(job) {
  return formatMinor(job.refund.amount_minor, job.order.currency) + ' ' + job.order.currency;
}

function customerEmail(job, refunded) {
  const subject = `Your order ${orderLabel(job)} has been canceled`;
  const greeting = job.customer.name ? `Hi ${job.customer.name}` : 'Hello';
  let text = `${greeting},\n\nyour order ${orderLabel(job)} has been canceled.\n`;
  if (refunded) {
    text += `We have refunded ${refundAmount(job)} to your original payment method; ` +
      'it usually shows within 5-10 business days.\n';
  }
  text += '\nIf you did not ask for this, just reply to this email.\n';
  return { subject, text };
}

function customerSms(job, refunded) {
  let text = `Your order ${orderLabel(job)} was canceled.`;
  if (refunded) text += ` Refund of ${refundAmount(job)} issued.`;
  return text;
}

function staffAlert(job, refunded) {
  let text = `Order ${orderLabel(job)} (${job.shop.domain}) canceled`;
  if (job.reason) text += `, reason: ${job.reason}`;
  text += refunded ? `; refunded ${refundAmount(job)} via ${job.payment.provider}` : '; no refund';
  return `${text}. Event ${job.id}.`;
}

class Providers {
  constructor(sandboxUrl) {
    this.base = sandboxUrl.replace(/\/+$/, '');
    this.twilioAuth = 'Basic ' +
      Buffer.from(`${credentials.twilioAccountSid}:${credentials.twilioAuthToken}`).toString('base64');
  }

  // fetch (undici): connections are kept alive and reused by default.
  async post(path, jobId, contentType, headers, body) {
    const response = await fetch(this.base + path, {
      method: 'POST',
      headers: { 'user-agent': 'rescind/0.1', 'content-type': contentType, 'x-rescind-job': jobId, ...headers },
      body,
    });
    const text = await response.text();
    if (response.status < 200 || response.status > 299) {
      throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 200)}`);
    }
    return text;
  }

  async refund(job) {
    const reference = job.payment.reference;
    const body = formEncode([
      [reference.startsWith('ch_') ? 'charge' : 'payment_intent', reference],
      ['amount', job.refund.amount_minor],
      ['reason', job.refund.reason],
      ['metadata[rescind_job_id]', job.id],
      ['metadata[order_id]', job.order.id],
      ['metadata[currency]', job.order.currency],
    ]);
    const text = await this.post('/v1/refunds', job.id, 'application/x-www-form-urlencoded', {
      authorization: `Bearer ${credentials.stripeApiKey}`,
      'idempotency-key': `rescind:${job.id}:refund`,
    }, body);
    const refund = JSON.parse(text);
    if (refund.status === 'failed' || refund.status === 'canceled') {
      throw new Error(`Stripe refund ${refund.id} ended ${refund.status}`);
    }
    return refund.id;
  }

  async email(job, refunded) {
    const message = customerEmail(job, refunded);
    const to = { email: job.customer.email };
    if (job.customer.name) to.name = job.customer.name;
    const body = JSON.stringify({
      personalizations: [{ to: [to] }],
      from: { email: credentials.sendgridFrom, name: credentials.sendgridFromName },
      subject: message.subject,
      content: [{ type: 'text/plain', value: message.text }],
      custom_args: { rescind_job_id: job.id },
    });
    await this.post('/v3/mail/send', job.id, 'application/json',
      { authorization: `Bearer ${credentials.sendgridApiKey}` }, body);
  }

  async sms(job, refunded) {
    const body = formEncode([
      ['To', job.customer.phone],
      ['From', credentials.twilioFrom],
      ['Body', customerSms(job, refunded).slice(0, 1600)],
    ]);
    await this.post(`/2010-04-01/Accounts/${credentials.twilioAccountSid}/Messages.json`, job.id,
      'application/x-www-form-urlencoded', { authorization: this.twilioAuth }, body);
  }

  async staff(job, refunded) {
    const body = JSON.stringify({ text: staffAlert(job, refunded) });
    await this.post(credentials.slackWebhookPath, job.id, 'application/json', {}, body);
  }

  // One order.canceled job: the refund first, then the notifications concurrently.
  async orderCanceled(job) {
    const refundMinor = job.refund ? job.refund.amount_minor : job.order.total_minor;
    if (!job.refund) job.refund = { amount_minor: refundMinor, reason: 'requested_by_customer' };
    const paid = job.order.financial_status === 'paid' && refundMinor > 0;
    if (paid) await this.refund(job);
    const notify = job.notify ?? ['email', 'sms', 'staff'];
    const calls = [];
    if (notify.includes('email')) calls.push(this.email(job, paid));
    if (notify.includes('sms')) calls.push(this.sms(job, paid));
    if (notify.includes('staff')) calls.push(this.staff(job, paid));
    await Promise.all(calls);
  }
}

module.exports = { Providers, credentials, formatMinor, formEncode };
