'use client';

import { Slot } from 'radix-ui';
import { createContext, use, useEffect, useId, useState, type ComponentProps, type ReactNode } from 'react';
import {
  Controller,
  FormProvider,
  useFormContext,
  useFormState,
  type ControllerProps,
  type FieldPath,
  type FieldValues,
  type UseFormReturn,
} from 'react-hook-form';
import { cn } from '@/lib/utils';
import { Input } from './input';
import { Label } from './label';

/**
 * react-hook-form + zod in the shadcn/ui shape:
 *
 *   const form = useForm({ resolver: zodResolver(createWorkspaceInput), defaultValues });
 *   <Form {...form} messages={{ slug: t('slugInvalid') }}>
 *     <form onSubmit={form.handleSubmit(save)}>
 *       <FormField control={form.control} name="slug" render={({ field }) => (
 *         <FormItem>
 *           <FormLabel>{t('slug')}</FormLabel>
 *           <FormControl><Input {...field} /></FormControl>
 *           <FormDescription>{t('slugHint')}</FormDescription>
 *           <FormMessage />
 *         </FormItem>
 *       )} />
 *
 * The contract's zod messages are English, so a form passes `messages`: the sentence, in the
 * current language, shown when a field fails validation in the browser. Errors from the server
 * (set with `setServerErrors`) are shown as the server wrote them.
 */

type Messages = Partial<Record<string, string>>;
const MessagesContext = createContext<Messages>({});

export function Form<TValues extends FieldValues, TContext = unknown, TTransformed = TValues>({
  messages,
  children,
  ...form
}: UseFormReturn<TValues, TContext, TTransformed> & { messages?: Messages; children: ReactNode }) {
  return (
    <MessagesContext value={messages ?? {}}>
      <FormProvider {...form}>{children}</FormProvider>
    </MessagesContext>
  );
}

/** Shows an API error's `fields` on the form's fields; true when at least one was shown. */
export function setServerErrors<TValues extends FieldValues, TContext = unknown, TTransformed = TValues>(
  form: UseFormReturn<TValues, TContext, TTransformed>,
  fields: Record<string, string>,
): boolean {
  const known = Object.keys(form.getValues());
  let shown = false;
  for (const [name, message] of Object.entries(fields)) {
    if (!known.includes(name)) continue;
    form.setError(name as FieldPath<TValues>, { type: 'server', message }, { shouldFocus: !shown });
    shown = true;
  }
  return shown;
}

type FieldContextValue = { name: string };
const FormFieldContext = createContext<FieldContextValue | null>(null);

export function FormField<TValues extends FieldValues = FieldValues, TName extends FieldPath<TValues> = FieldPath<TValues>, TTransformed = TValues>(
  props: ControllerProps<TValues, TName, TTransformed>,
) {
  return (
    <FormFieldContext value={{ name: props.name }}>
      <Controller {...props} />
    </FormFieldContext>
  );
}

type ItemContextValue = { id: string; hasDescription: boolean; setHasDescription: (has: boolean) => void };
const FormItemContext = createContext<ItemContextValue | null>(null);

export function useFormField() {
  const field = use(FormFieldContext);
  const item = use(FormItemContext);
  const messages = use(MessagesContext);
  const { getFieldState } = useFormContext();
  const formState = useFormState({ name: field?.name });
  if (!field || !item) throw new Error('useFormField belongs inside <FormField> and <FormItem>');
  const state = getFieldState(field.name, formState);
  const id = item.id;
  const error = state.error;
  const message = error ? (error.type === 'server' ? error.message : (messages[field.name] ?? error.message)) : undefined;
  return {
    id,
    name: field.name,
    formItemId: `${id}-item`,
    formDescriptionId: `${id}-description`,
    formMessageId: `${id}-message`,
    hasDescription: item.hasDescription,
    setHasDescription: item.setHasDescription,
    ...state,
    message,
  };
}

export function FormItem({ className, ...props }: ComponentProps<'div'>) {
  const id = useId();
  const [hasDescription, setHasDescription] = useState(false);
  return (
    <FormItemContext value={{ id, hasDescription, setHasDescription }}>
      <div data-slot="form-item" className={cn('flex min-w-0 flex-col gap-1.5', className)} {...props} />
    </FormItemContext>
  );
}

export function FormLabel({ className, ...props }: ComponentProps<typeof Label>) {
  const { formItemId, error } = useFormField();
  return <Label data-slot="form-label" data-error={!!error} htmlFor={formItemId} className={className} {...props} />;
}

/**
 * Wires its only child (an Input, a NativeSelect…) to the label, description and message. The
 * description is announced until there is an error; then the error is, instead.
 */
export function FormControl(props: ComponentProps<typeof Slot.Root>) {
  const { formItemId, formDescriptionId, formMessageId, error, hasDescription } = useFormField();
  return (
    <Slot.Root
      data-slot="form-control"
      id={formItemId}
      aria-describedby={error ? formMessageId : hasDescription ? formDescriptionId : undefined}
      aria-invalid={error ? true : undefined}
      {...props}
    />
  );
}

/** Hint text under a field; hidden while the field shows an error, as the error replaces it. */
export function FormDescription({ className, ...props }: ComponentProps<'p'>) {
  const { formDescriptionId, error, setHasDescription } = useFormField();
  const shown = !error;
  // The control names the description only while it is on the page.
  useEffect(() => {
    setHasDescription(shown);
    return () => setHasDescription(false);
  }, [shown, setHasDescription]);
  if (!shown) return null;
  return <p data-slot="form-description" id={formDescriptionId} className={cn('text-[12.5px] text-muted-foreground', className)} {...props} />;
}

export function FormMessage({ className, children, ...props }: ComponentProps<'p'>) {
  const { formMessageId, message } = useFormField();
  const body = message ?? children;
  if (!body) return null;
  return (
    <p data-slot="form-message" id={formMessageId} className={cn('text-[12.5px] text-destructive', className)} {...props}>
      {body}
    </p>
  );
}

type FormInputFieldProps<TValues extends FieldValues, TName extends FieldPath<TValues>, TTransformed> = {
  control: ControllerProps<TValues, TName, TTransformed>['control'];
  name: TName;
  label: ReactNode;
  description?: ReactNode;
} & Omit<ComponentProps<typeof Input>, 'name' | 'value' | 'defaultValue' | 'onChange' | 'onBlur'>;

/** The common case: one labelled text input bound to a field, with its hint and its error. */
export function FormInputField<TValues extends FieldValues, TName extends FieldPath<TValues>, TTransformed = TValues>({
  control,
  name,
  label,
  description,
  ...inputProps
}: FormInputFieldProps<TValues, TName, TTransformed>) {
  return (
    <FormField
      control={control}
      name={name}
      render={({ field }) => (
        <FormItem>
          <FormLabel>{label}</FormLabel>
          <FormControl>
            <Input {...inputProps} {...field} value={field.value ?? ''} />
          </FormControl>
          {description ? <FormDescription>{description}</FormDescription> : null}
          <FormMessage />
        </FormItem>
      )}
    />
  );
}
