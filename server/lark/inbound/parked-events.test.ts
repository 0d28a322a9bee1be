import { expect, test } from 'vitest';
import { ParkedEvents } from './backlog';

test('a chat is held back while any event it parked is left, and only that chat', () => {
  const parked = new ParkedEvents();
  const chatA = ParkedEvents.key('inst-1', 'oc_a');
  const chatB = ParkedEvents.key('inst-1', 'oc_b');
  const otherBot = ParkedEvents.key('inst-2', 'oc_a');
  parked.add(chatA, 1);
  parked.add(chatA, 2);
  expect([parked.has(chatA), parked.has(chatB), parked.has(otherBot)]).toEqual([true, false, false]);
  parked.done(1);
  expect(parked.has(chatA)).toBe(true);
  parked.done(2);
  expect(parked.has(chatA)).toBe(false);
  // Done twice, or for an event parked elsewhere: nothing changes.
  parked.done(2);
  parked.done(99);
  expect(parked.ids()).toEqual([]);
});

test('events of no chat are held back per bot', () => {
  const parked = new ParkedEvents();
  parked.add(ParkedEvents.key('inst-1', null), 7);
  expect(parked.has(ParkedEvents.key('inst-1', null))).toBe(true);
  expect(parked.has(ParkedEvents.key('inst-1', 'oc_a'))).toBe(false);
  expect(parked.ids()).toEqual([7]);
});
