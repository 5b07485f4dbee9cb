/** Names shared by the floor server and the bench that drives it. */
export const FloorSubjects = {
  echo: 'bench.floor.echo',
  publish: 'bench.floor.publish',
  subscribers: 'bench.floor.subscribers',
} as const;
export const FloorTopic = 'floor';
export const FloorWsPath = '/ws';
/** A frame carries `fanout:<epoch ms>:`; receivers read the stamp without parsing JSON. */
export const FanoutMark = 'fanout:';
